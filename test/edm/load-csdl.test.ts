/** The CSDL JSON loader: the shipped CRM model's names, keys, navigations, and the model version. */
import { loadModel, loadModelFromFile } from '../../src/edm/load-csdl';
import { typeRefName } from '../../src/edm/model';
import { linkTables } from '../../src/edm/storage';

type Json = Record<string, unknown>;

/** The core entity sets of the CRM model (the team's model description): entity set → entity type, exact names. */
const CORE_SETS: readonly (readonly [string, string])[] = [
  ['Contacts', 'Contact'], ['Companies', 'Company'], ['Groups', 'Group'], ['Opportunities', 'Opportunity'],
  ['Processes', 'Process'], ['Stages', 'Stage'], ['Products', 'Product'], ['OpportunityProducts', 'OpportunityProduct'],
  ['Activities', 'Activity'], ['ActivityTypes', 'ActivityType'], ['Histories', 'History'], ['HistoryTypes', 'HistoryType'],
  ['Notes', 'Note'], ['Users', 'User'], ['Teams', 'Team'], ['AccessTokens', 'AccessToken'],
  ['Tags', 'Tag'], ['Countries', 'Country'], ['Picklists', 'Picklist'], ['PicklistItems', 'PicklistItem'],
  ['FieldDefinitions', 'FieldDefinition'], ['TableDefinitions', 'TableDefinition'],
];

const model = loadModelFromFile();
const csdl = (): Json => structuredClone(model.csdl) as Json;
const storage = (): Json => structuredClone(model.storageMapping) as Json;
const crm = (doc: Json): Json => doc.Crm as Json;

describe('loadModel on metadata/crm.csdl.json', () => {
  it('reads Core.Permissions Write or None as a hidden property (User.Password, AccessToken.Token)', () => {
    const hidden = [...model.entityTypes.values()].flatMap((t) => t.properties.filter((p) => p.hidden).map((p) => `${t.name}.${p.name}`));
    expect(hidden.sort()).toEqual(['AccessToken.Token', 'User.Password']);
  });

  it('has the core entity sets with their exact names and types', () => {
    expect([...model.entitySets.keys()]).toEqual(CORE_SETS.map(([set]) => set));
    for (const [set, type] of CORE_SETS) expect(model.entitySets.get(set)?.entityType.qualifiedName).toBe(`Crm.${type}`);
    expect(model.namespace).toBe('Crm');
    expect(model.containerName).toBe('Service');
  });

  it('keys every entity type on a non-nullable Edm.Guid Id, with server-computed Created and Edited', () => {
    for (const type of model.entityTypes.values()) {
      expect(type.key).toEqual(['Id']);
      const byName = new Map(type.properties.map((p) => [p.name, p]));
      expect(byName.get('Id')).toMatchObject({ nullable: false, computed: false, type: { kind: 'primitive', name: 'Edm.Guid' } });
      for (const stamp of ['Created', 'Edited']) {
        expect(byName.get(stamp)).toMatchObject({ computed: true, nullable: false, precision: 3 });
        expect(typeRefName(byName.get(stamp)!.type)).toBe('Edm.DateTimeOffset');
      }
    }
  });

  it('reads facets, nullability, enum and complex types', () => {
    const contact = model.entityTypes.get('Crm.Contact')!;
    const prop = (name: string) => contact.properties.find((p) => p.name === name)!;
    expect(prop('FirstName')).toMatchObject({ nullable: true, maxLength: 100, computed: false });
    expect(prop('FullName')).toMatchObject({ nullable: true, computed: true });
    expect(typeRefName(prop('BusinessAddress').type)).toBe('Crm.Address');
    expect(typeRefName(prop('ContactType').type)).toBe('Crm.ContactType');
    expect(prop('IsPrivate')).toMatchObject({ nullable: false, defaultValue: false });
    const company = model.entityTypes.get('Crm.Company')!;
    expect(company.properties.find((p) => p.name === 'Name')).toMatchObject({ nullable: false, maxLength: 200 });
    expect(company.properties.find((p) => p.name === 'Revenue')).toMatchObject({ precision: 19, scale: 4, nullable: true });
    expect([...model.enumTypes.get('Crm.ContactType')!.members]).toEqual([['Client', 0], ['PastClient', 1], ['Prospect', 2], ['Vendor', 3], ['Other', 4]]);
    expect(model.complexTypes.get('Crm.Address')!.properties.map((p) => p.name)).toEqual(['Line1', 'Line2', 'City', 'State', 'PostalCode', 'Country']);
    const recurrence = model.complexTypes.get('Crm.Recurrence')!.properties;
    expect(recurrence.find((p) => p.name === 'ClearedDates')).toMatchObject({ collection: true, computed: true });
  });

  it('backs every single-valued navigation Xxx with a foreign key XxxId of type Edm.Guid', () => {
    const contact = model.entityTypes.get('Crm.Contact')!;
    expect(contact.navigations.find((n) => n.name === 'Company')).toEqual({
      name: 'Company', targetTypeName: 'Crm.Company', collection: false, nullable: true, partner: 'Contacts',
      foreignKeys: ['CompanyId'], onDelete: 'SetNull',
    });
    expect(contact.navigations.find((n) => n.name === 'Groups')).toMatchObject({ collection: true, partner: 'Contacts' });
    expect(contact.navigations.find((n) => n.name === 'Groups')?.foreignKeys).toBeUndefined();
    const line = model.entityTypes.get('Crm.OpportunityProduct')!.navigations.find((n) => n.name === 'Opportunity');
    expect(line).toMatchObject({ nullable: false, foreignKeys: ['OpportunityId'], onDelete: 'Cascade' });
    for (const type of model.entityTypes.values()) {
      for (const nav of type.navigations.filter((n) => !n.collection)) {
        expect(`${type.name}/${nav.foreignKeys?.join()}`).toBe(`${type.name}/${nav.name}Id`);
        expect(typeRefName(type.properties.find((p) => p.name === nav.foreignKeys?.[0])!.type)).toBe('Edm.Guid');
      }
    }
  });

  it('pairs partners both ways and binds every navigation to a set of the target type', () => {
    for (const set of model.entitySets.values()) {
      const type = set.entityType;
      for (const nav of type.navigations) {
        const target = model.entitySets.get(set.navigationBindings.get(nav.name) ?? '');
        expect(`${set.name}/${nav.name} → ${target?.entityType.qualifiedName}`).toBe(`${set.name}/${nav.name} → ${nav.targetTypeName}`);
        if (!nav.partner) continue;
        const back = model.entityTypes.get(nav.targetTypeName)!.navigations.find((n) => n.name === nav.partner);
        expect(`${type.name}/${nav.name} ↔ ${back?.partner}/${back?.targetTypeName}`).toBe(`${type.name}/${nav.name} ↔ ${nav.name}/${type.qualifiedName}`);
      }
    }
  });

  it('keeps the document it was loaded from as model.csdl', () => {
    const doc = csdl();
    expect(loadModel(doc).csdl).toBe(doc);
  });
});

describe('model version', () => {
  it('is stable for the same document and storage mapping', () => {
    expect(loadModel(csdl(), storage()).version).toBe(model.version);
  });

  it('changes when the storage mapping changes (the database must follow it)', () => {
    const mapping = storage();
    ((mapping.entitySets as Json).Companies as Json).indexes = [['Name'], ['Website']];
    expect(loadModel(csdl(), mapping).version).not.toBe(model.version);
  });

  it('changes when the document changes', () => {
    const doc = csdl();
    (crm(doc).Contact as Json).Nickname = { $MaxLength: 50, $Nullable: true };
    const changed = loadModel(doc);
    expect(changed.version).not.toBe(model.version);
    expect(changed.entityTypes.get('Crm.Contact')!.properties.some((p) => p.name === 'Nickname')).toBe(true);
  });
});

describe('loadModel rejects what the service cannot serve', () => {
  it('rejects an unknown property type', () => {
    const doc = csdl();
    (crm(doc).Note as Json).Text = { $Type: 'Crm.Nope' };
    expect(() => loadModel(doc)).toThrow('Note/Text: unknown type Crm.Nope');
  });

  it('rejects a key that is not a property', () => {
    const doc = csdl();
    (crm(doc).Team as Json).$Key = ['Code'];
    expect(() => loadModel(doc)).toThrow('Team: key Code is not a property');
  });

  it('rejects a referential constraint on a missing property', () => {
    const doc = csdl();
    delete (crm(doc).Note as Json).OwnerId;
    expect(() => loadModel(doc)).toThrow('Note/Owner: no property OwnerId');
  });

  it('rejects an entity set of an unknown type', () => {
    const doc = csdl();
    ((crm(doc).Service as Json).Teams as Json).$Type = 'Crm.Squad';
    expect(() => loadModel(doc)).toThrow('entity set Teams: unknown type Crm.Squad');
  });
});

describe('storage mapping (metadata/crm.storage.json)', () => {
  it('gives the derived-value rules and extra indexes to the types and sets it names', () => {
    expect(model.entityTypes.get('Crm.Contact')!.derived).toEqual([{ kind: 'join-text', property: 'FullName', inputs: ['FirstName', 'LastName'], separator: ' ' }]);
    expect(model.entityTypes.get('Crm.OpportunityProduct')!.feedsSums).toEqual([
      { parentType: 'Crm.Opportunity', column: 'Amount', childType: 'Crm.OpportunityProduct', foreignKey: 'OpportunityId', childColumn: 'Total' },
    ]);
    expect(model.entitySets.get('Contacts')!.indexes).toContainEqual(['LastName', 'FirstName', 'Id']);
    expect(model.entitySets.get('Notes')!.indexes).toBeUndefined();
  });

  it('accepts a composite key, and refuses a referential constraint that names only part of the key it refers to', () => {
    const doc = csdl();
    (crm(doc).Country as Json).$Key = ['IsoCode', 'Name'];
    expect(loadModel(doc, storage()).entityTypes.get('Crm.Country')!.key).toEqual(['IsoCode', 'Name']);
    const linked = csdl();
    (crm(linked).Note as Json).$Key = ['Id', 'Text'];
    // link tables to a composite-key type hold one column per key part
    const withNotes = loadModel(linked, storage());
    const noteLinks = linkTables(withNotes).filter((l) => l.types.some((t) => t.name === 'Note'));
    expect(noteLinks.length).toBeGreaterThan(0);
    for (const link of noteLinks) expect(link.columns[link.types.findIndex((t) => t.name === 'Note')]).toEqual(['Note_Id', 'Note_Text']);
    const partial = csdl();
    (crm(partial).Company as Json).$Key = ['Id', 'Name'];
    expect(() => loadModel(partial, storage())).toThrow(/the referential constraint must name every key property of Company \(Id, Name\)/);
    const missing = csdl();
    (crm(missing).Note as Json).$Key = ['Id', 'Nope'];
    expect(() => loadModel(missing, storage())).toThrow('Note: key Nope is not a property');
  });

  it('refuses entries that name what the model does not have, or kinds it does not know', () => {
    const withRule = (rule: Json): Json => ({ entityTypes: { 'Crm.Contact': { derived: [rule] } } });
    expect(() => loadModel(csdl(), withRule({ kind: 'join-text', property: 'FullName', inputs: ['Nope'] }))).toThrow('storage mapping: Crm.Contact has no property Nope');
    expect(() => loadModel(csdl(), withRule({ kind: 'magic', property: 'FullName' }))).toThrow('is not join-text, line-total or sum-of-children');
    expect(() => loadModel(csdl(), { entitySets: { Nothing: { indexes: [['A']] } } })).toThrow('storage mapping: no entity set Nothing');
    expect(() => loadModel(csdl(), { entitySets: { Notes: { table: 'bad name' } } })).toThrow('entitySets.Notes.table is not a table name');
  });
});
