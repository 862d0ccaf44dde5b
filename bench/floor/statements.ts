/**
 * The floor's SQL: one statement per scenario, written as a careful developer would for each engine
 * (`LastName >= 'S' AND LastName < 'T'` for startswith, `Id IN (SELECT ...)` for any, one window-function
 * query for an expanded collection, a plain GROUP BY for $apply). `?` placeholders; the PostgreSQL store
 * numbers them ($1, $2, ...).
 */

export type StatementName =
  | 'contactByKey' | 'contactsTop' | 'contactsAfterId' | 'contactsByLastName' | 'contactsByLastNameAfter' | 'contactsByLastNameAfterNull'
  | 'contactsByLastNameOffset' | 'filterOrder' | 'inGroup' | 'inGroupAll' | 'count' | 'opportunities' | 'companiesWithContacts'
  | 'stageTotals' | 'industryCounts' | 'stateCounts' | 'contactsTopSelect' | 'insertNote' | 'firstUser';

export const CONTACT_COLUMNS = `"Id", "Created", "Edited", "CreatedById", "EditedById", "FirstName", "LastName", "FullName", "JobTitle", "EmailAddress",
  "BusinessPhone", "MobilePhone", "BusinessAddress_Line1", "BusinessAddress_Line2", "BusinessAddress_City", "BusinessAddress_State",
  "BusinessAddress_PostalCode", "BusinessAddress_Country", "HomeAddress_Line1", "HomeAddress_Line2", "HomeAddress_City", "HomeAddress_State",
  "HomeAddress_PostalCode", "HomeAddress_Country", "BirthDate", "ContactType", "IsPrivate", "CompanyId", "OwnerId"`;

/** A group's contacts: its static links plus the contacts its Criteria matches (kept in Contact_Group_Dynamic). */
const GROUP_MEMBERS = `SELECT cg."ContactId" FROM "Contact_Group" cg JOIN "Groups" g ON g."Id" = cg."GroupId" WHERE g."Name" = ?
  UNION SELECT d."ContactId" FROM "Contact_Group_Dynamic" d JOIN "Groups" g ON g."Id" = d."GroupId" WHERE g."Name" = ?`;

/**
 * Engine-neutral text. Each `#` is an integer the floor computed (LIMIT, OFFSET, per-parent top), written into the
 * text as the service writes them: a bound LIMIT makes SQLite (STAT4) plan the statement again on every run.
 * Nullable sort columns say NULLS FIRST: OData sorts null lowest, and PostgreSQL's indexes hold them that way
 * (src/db/schema.ts indexColumns), so the plain form (NULLS LAST there) would sort the table.
 */
export const STATEMENTS: Readonly<Record<StatementName, string>> = {
  contactByKey: `SELECT ${CONTACT_COLUMNS} FROM "Contacts" WHERE "Id" = ?`,
  contactsTop: `SELECT ${CONTACT_COLUMNS} FROM "Contacts" ORDER BY "Id" LIMIT #`,
  contactsTopSelect: `SELECT "Edited", "Id", "FullName" FROM "Contacts" ORDER BY "Id" LIMIT #`,
  contactsAfterId: `SELECT ${CONTACT_COLUMNS} FROM "Contacts" WHERE "Id" > ? ORDER BY "Id" LIMIT #`,
  contactsByLastName: `SELECT ${CONTACT_COLUMNS} FROM "Contacts" ORDER BY "LastName" NULLS FIRST, "Id" LIMIT #`,
  contactsByLastNameAfter: `SELECT ${CONTACT_COLUMNS} FROM "Contacts" WHERE "LastName" >= ? AND ("LastName" > ? OR ("LastName" = ? AND "Id" > ?))
    ORDER BY "LastName" NULLS FIRST, "Id" LIMIT #`,
  contactsByLastNameAfterNull: `SELECT ${CONTACT_COLUMNS} FROM "Contacts" WHERE "LastName" IS NOT NULL OR "Id" > ?
    ORDER BY "LastName" NULLS FIRST, "Id" LIMIT #`,
  // the page's keys first, from the index that serves the order, then its rows: the plain OFFSET reads (SQLite) or
  // sorts (PostgreSQL) every skipped row whole, and the service does this too (src/sql/compile-deep-skip.ts)
  contactsByLastNameOffset: `SELECT ${CONTACT_COLUMNS} FROM "Contacts" WHERE "Id" IN
    (SELECT "Id" FROM "Contacts" ORDER BY "LastName" NULLS FIRST, "Id" LIMIT # OFFSET #) ORDER BY "LastName" NULLS FIRST, "Id"`,
  filterOrder: `SELECT "Edited", "Id", "FullName", "EmailAddress" FROM "Contacts"
    WHERE "LastName" >= ? AND "LastName" < ? AND "BusinessAddress_State" = ? ORDER BY "LastName" NULLS FIRST, "FirstName" NULLS FIRST, "Id" LIMIT #`,
  inGroup: `SELECT "Edited", "Id", "FullName" FROM "Contacts" WHERE "Id" IN (${GROUP_MEMBERS}) ORDER BY "Id" LIMIT #`,
  inGroupAll: `SELECT ${CONTACT_COLUMNS} FROM "Contacts" WHERE "Id" IN (${GROUP_MEMBERS}) ORDER BY "Id" LIMIT #`,
  count: 'SELECT COUNT(*) AS "n" FROM "Contacts"',
  opportunities: `SELECT o."Edited", o."Id", o."Name", o."Amount", s."Id" AS "StageId", s."Edited" AS "StageEdited", s."Name" AS "StageName",
    p."Id" AS "ProcessId", p."Edited" AS "ProcessEdited", p."Name" AS "ProcessName"
    FROM "Opportunities" o LEFT JOIN "Stages" s ON s."Id" = o."StageId" LEFT JOIN "Processes" p ON p."Id" = s."ProcessId"
    ORDER BY o."Id" LIMIT #`,
  // one statement for the companies and the first N contacts of each (ROW_NUMBER per company), not one per company
  companiesWithContacts: `SELECT c."Edited", c."Id", c."Name", x."Edited" AS "ContactEdited", x."FullName" AS "ContactFullName", x."rn"
    FROM (SELECT "Edited", "Id", "Name" FROM "Companies" ORDER BY "Id" LIMIT #) c
    LEFT JOIN (SELECT "CompanyId", "Edited", "FullName", ROW_NUMBER() OVER (PARTITION BY "CompanyId" ORDER BY "Id") AS "rn"
      FROM "Contacts" WHERE "CompanyId" IN (SELECT "Id" FROM "Companies" ORDER BY "Id" LIMIT #)) x ON x."CompanyId" = c."Id" AND x."rn" <= #
    ORDER BY c."Id", x."rn"`,
  // Amount is Edm.Decimal with Scale 4 (stored as text on SQLite): summed exactly as integer units of 1/10000 on both engines
  stageTotals: `SELECT "StageId", SUM(CAST(round("Amount" * 10000) AS BIGINT)) AS "TotalUnits", COUNT(*) AS "Count"
    FROM "Opportunities" GROUP BY "StageId" ORDER BY "StageId"`,
  industryCounts: `SELECT co."Industry" AS "Value", COUNT(*) AS "Count" FROM "Contacts" c LEFT JOIN "Companies" co ON co."Id" = c."CompanyId"
    GROUP BY co."Industry" ORDER BY co."Industry" NULLS FIRST`,
  stateCounts: `SELECT "BusinessAddress_State" AS "Value", COUNT(*) AS "Count" FROM "Contacts" GROUP BY "BusinessAddress_State"
    ORDER BY "BusinessAddress_State" NULLS FIRST`,
  insertNote: `INSERT INTO "Notes" ("Id", "Created", "Edited", "CreatedById", "EditedById", "Text", "IsPrivate", "OwnerId")
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  firstUser: 'SELECT "Id" FROM "Users" ORDER BY "Id" LIMIT 1',
};
