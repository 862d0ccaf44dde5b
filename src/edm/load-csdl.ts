/**
 * Builds an EdmModel from a CSDL JSON document (OData CSDL JSON v4.01). It validates what the
 * service depends on (types resolve, keys exist, foreign keys exist) and throws on anything else;
 * it does not interpret annotations beyond Core.Computed and Core.Permissions.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  PRIMITIVE_TYPES, type EdmComplexType, type EdmEntitySet, type EdmEntityType, type EdmSingleton, type EdmEnumType, type EdmModel,
  type EdmNavigation, type EdmOperation, type EdmOperationImport, type EdmProperty, type EdmTypeRef, type EdmValueType,
  type OnDeleteAction, type PrimitiveTypeName, type EdmSumRule,
} from './model';
import { parseStorageMapping, readStorageMappingFor, ruleInputs } from './storage-mapping';

type Json = Record<string, unknown>;
const COMPUTED = '@Org.OData.Core.V1.Computed';
const CONCURRENCY = '@Org.OData.Core.V1.OptimisticConcurrency';
const PERMISSIONS = '@Org.OData.Core.V1.Permissions';
/** Core.Permissions values that leave a property unreadable */
const UNREADABLE: ReadonlySet<string> = new Set(['Write', 'None']);

/** metadata/ at the project root, found from both src/edm and the compiled dist/src/edm */
export const DEFAULT_CSDL_PATH = findUp(path.join('metadata', 'crm.csdl.json'), __dirname);

function findUp(relative: string, from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, relative);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return path.resolve(from, '../..', relative);
  }
}

export function loadModelFromFile(file: string = DEFAULT_CSDL_PATH): EdmModel {
  return loadModel(readCsdlFile(file), readStorageMappingFor(file));
}

/** The built-in model in `file` (metadata/crm.csdl.json unless configured) and the storage mapping beside it. */
export function readBuiltInModel(file: string = DEFAULT_CSDL_PATH): { csdl: Json; storage: Json } {
  return { csdl: readCsdlFile(file), storage: readStorageMappingFor(file) };
}

/** The CSDL JSON document in `file` (the built-in model: metadata/crm.csdl.json unless configured). */
export function readCsdlFile(file: string = DEFAULT_CSDL_PATH): Json {
  return JSON.parse(readFileSync(file, 'utf8')) as Json;
}

/** `storage`: the storage mapping (src/edm/storage-mapping.ts); without one the storage conventions alone hold. */
export function loadModel(csdl: Json, storage: Json = {}): EdmModel {
  const mapping = parseStorageMapping(storage);
  const sumsByChild = new Map<string, EdmSumRule[]>();
  for (const [parentType, rules] of mapping.derived) {
    for (const r of rules) {
      if (r.kind !== 'sum-of-children') continue;
      const list = sumsByChild.get(r.childType) ?? [];
      list.push({ parentType, column: r.property, childType: r.childType, foreignKey: r.foreignKey, childColumn: r.childProperty });
      sumsByChild.set(r.childType, list);
    }
  }
  const containerRef = String(csdl.$EntityContainer ?? '');
  const namespace = containerRef.slice(0, containerRef.lastIndexOf('.'));
  const containerName = containerRef.slice(namespace.length + 1);
  const schema = csdl[namespace] as Json | undefined;
  if (!schema) throw new Error(`CSDL has no schema ${namespace}`);

  const enumTypes = new Map<string, EdmEnumType>();
  const complexTypes = new Map<string, EdmComplexType>();
  const entityTypes = new Map<string, EdmEntityType>();
  const elements = Object.entries(schema).filter(([k]) => !k.startsWith('$') && !k.startsWith('@')) as [string, Json][];

  for (const [name, el] of elements) {
    if (el.$Kind !== 'EnumType') continue;
    const members = new Map<string, number>();
    for (const [m, v] of Object.entries(el)) if (!m.startsWith('$') && !m.startsWith('@')) members.set(m, Number(v));
    enumTypes.set(`${namespace}.${name}`, {
      kind: 'enum', name, qualifiedName: `${namespace}.${name}`, members,
      memberByValue: new Map([...members].map(([k, v]) => [v, k])),
    });
  }
  // Complex types may nest; resolve them lazily through a mutable list filled after creation.
  const complexProps = new Map<string, EdmProperty[]>();
  for (const [name, el] of elements) {
    if (el.$Kind !== 'ComplexType') continue;
    const props: EdmProperty[] = [];
    complexProps.set(`${namespace}.${name}`, props);
    complexTypes.set(`${namespace}.${name}`, { kind: 'complex', name, qualifiedName: `${namespace}.${name}`, properties: props });
  }
  const resolveType = (typeName: string, where: string): EdmTypeRef => {
    if ((PRIMITIVE_TYPES as readonly string[]).includes(typeName)) return { kind: 'primitive', name: typeName as PrimitiveTypeName };
    const e = enumTypes.get(typeName);
    if (e) return { kind: 'enum', type: e };
    const c = complexTypes.get(typeName);
    if (c) return { kind: 'complex', type: c };
    throw new Error(`${where}: unknown type ${typeName}`);
  };
  /** `<Type>/<navigation>` → its referential constraint (dependent → principal property) */
  const principals = new Map<string, Record<string, string>>();
  const structural = (el: Json, where: string): { props: EdmProperty[]; navs: EdmNavigation[] } => {
    const props: EdmProperty[] = [];
    const navs: EdmNavigation[] = [];
    for (const [name, raw] of Object.entries(el)) {
      if (name.startsWith('$') || name.startsWith('@')) continue;
      const p = raw as Json;
      if (p.$Kind === 'NavigationProperty') {
        const constraint = p.$ReferentialConstraint as Record<string, string> | undefined;
        if (constraint) principals.set(`${where}/${name}`, constraint);
        navs.push({
          name, targetTypeName: String(p.$Type), collection: p.$Collection === true,
          nullable: p.$Collection === true ? false : p.$Nullable !== false,
          partner: p.$Partner as string | undefined,
          ...(constraint ? { foreignKeys: Object.keys(constraint) } : {}),
          onDelete: p.$OnDelete as OnDeleteAction | undefined,
        });
        continue;
      }
      props.push({
        name, type: resolveType(String(p.$Type ?? 'Edm.String'), `${where}/${name}`), collection: p.$Collection === true,
        nullable: p.$Nullable === true, maxLength: p.$MaxLength as number | undefined,
        precision: p.$Precision as number | undefined, scale: p.$Scale as number | undefined,
        defaultValue: p.$DefaultValue as string | number | boolean | undefined, computed: p[COMPUTED] === true,
        ...(UNREADABLE.has(String(p[PERMISSIONS])) ? { hidden: true } : {}),
      });
    }
    return { props, navs };
  };
  for (const [name, el] of elements) {
    if (el.$Kind === 'ComplexType') complexProps.get(`${namespace}.${name}`)!.push(...structural(el, name).props);
  }
  for (const [name, el] of elements) {
    if (el.$Kind !== 'EntityType') continue;
    const { props: declared, navs } = structural(el, name);
    const props = withColumns(declared, mapping.columns.get(`${namespace}.${name}`), name);
    const key = (el.$Key as string[] | undefined) ?? [];
    if (key.length === 0) throw new Error(`${name}: an entity type needs a key`);
    for (const k of key) {
      const keyProp = props.find((p) => p.name === k);
      if (!keyProp) throw new Error(`${name}: key ${k} is not a property`);
      if (keyProp.type.kind === 'complex' || keyProp.collection) throw new Error(`${name}: key ${k} must be a primitive or enum property`);
    }
    for (const n of navs) for (const fk of n.foreignKeys ?? []) if (!props.some((p) => p.name === fk)) throw new Error(`${name}/${n.name}: no property ${fk}`);
    const annotations = Object.fromEntries(Object.entries(el).filter(([k]) => k.startsWith('@')));
    const qualifiedName = `${namespace}.${name}`;
    const derived = mapping.derived.get(qualifiedName) ?? [];
    for (const rule of derived) {
      for (const p of [rule.property, ...ruleInputs(rule)]) if (!props.some((x) => x.name === p)) throw new Error(`storage mapping: ${qualifiedName} has no property ${p} (derived ${rule.kind})`);
    }
    const feedsSums = sumsByChild.get(qualifiedName) ?? [];
    for (const sum of feedsSums) {
      for (const p of [sum.foreignKey, sum.childColumn]) if (!props.some((x) => x.name === p)) throw new Error(`storage mapping: ${qualifiedName} has no property ${p} (sum into ${sum.parentType}.${sum.column})`);
    }
    entityTypes.set(qualifiedName, {
      kind: 'entity', name, qualifiedName, key, properties: props, navigations: navs, annotations,
      ...(derived.length ? { derived } : {}), ...(feedsSums.length ? { feedsSums } : {}),
    });
  }
  for (const typeName of [...mapping.derived.keys(), ...sumsByChild.keys(), ...mapping.columns.keys()]) {
    if (!entityTypes.has(typeName)) throw new Error(`storage mapping: no entity type ${typeName}`);
  }
  for (const t of entityTypes.values()) {
    for (const n of t.navigations) if (!entityTypes.has(n.targetTypeName)) throw new Error(`${t.name}/${n.name}: unknown target ${n.targetTypeName}`);
  }
  for (const t of entityTypes.values()) orderForeignKeys(entityTypes, t, principals);

  const container = schema[containerName] as Json;
  const entitySets = new Map<string, EdmEntitySet>();
  for (const [name, raw] of Object.entries(container)) {
    if (name.startsWith('$') || name.startsWith('@')) continue;
    const s = raw as Json;
    if (s.$Collection !== true) continue;
    const entityType = entityTypes.get(String(s.$Type));
    if (!entityType) throw new Error(`entity set ${name}: unknown type ${String(s.$Type)}`);
    const bindings = new Map(Object.entries((s.$NavigationPropertyBinding as Record<string, string>) ?? {}));
    const concurrency = (s[CONCURRENCY] as string[] | undefined) ?? [];
    for (const p of concurrency) {
      const prop = entityType.properties.find((x) => x.name === p);
      if (!prop || prop.type.kind === 'complex' || prop.collection) throw new Error(`entity set ${name}: OptimisticConcurrency names ${p}, not a primitive property`);
    }
    const setMapping = mapping.sets.get(name);
    entitySets.set(name, {
      name, entityType, navigationBindings: bindings, concurrency,
      ...(setMapping?.table ? { table: setMapping.table } : {}), ...(setMapping?.indexes.length ? { indexes: setMapping.indexes } : {}),
    });
  }
  for (const setName of mapping.sets.keys()) if (!entitySets.has(setName)) throw new Error(`storage mapping: no entity set ${setName}`);
  const singletons = new Map<string, EdmSingleton>();
  for (const [name, raw] of Object.entries(container)) {
    if (name.startsWith('$') || name.startsWith('@')) continue;
    const s = raw as Json;
    if (s.$Collection === true || typeof s.$Type !== 'string') continue;
    const entityType = entityTypes.get(s.$Type);
    if (!entityType) throw new Error(`singleton ${name}: unknown type ${s.$Type}`);
    const entitySet = [...entitySets.values()].find((set) => set.entityType === entityType);
    if (!entitySet) throw new Error(`singleton ${name}: no entity set holds ${s.$Type}`);
    singletons.set(name, { name, entitySet });
  }
  const operations = new Map<string, EdmOperation[]>();
  const valueType = (typeName: string, where: string): EdmValueType => {
    const entity = entityTypes.get(typeName);
    return entity ? { kind: 'entity', type: entity } : resolveType(typeName, where);
  };
  for (const [name, raw] of Object.entries(schema)) {
    if (!Array.isArray(raw)) continue;
    const overloads = (raw as Json[]).filter((o) => o.$Kind === 'Action' || o.$Kind === 'Function').map((o): EdmOperation => {
      const where = `${name}`;
      const parameters = ((o.$Parameter as Json[] | undefined) ?? []).map((p) => ({
        name: String(p.$Name), type: valueType(String(p.$Type ?? 'Edm.String'), `${where}/${String(p.$Name)}`),
        collection: p.$Collection === true, nullable: p.$Nullable === true,
      }));
      const ret = o.$ReturnType as Json | undefined;
      return {
        kind: o.$Kind === 'Action' ? 'action' : 'function', name, qualifiedName: `${namespace}.${name}`, bound: o.$IsBound === true, parameters,
        returnType: ret ? { type: valueType(String(ret.$Type ?? 'Edm.String'), `${where}/$ReturnType`), collection: ret.$Collection === true, nullable: ret.$Nullable === true } : undefined,
        entitySetPath: o.$EntitySetPath as string | undefined,
      };
    });
    if (overloads.length) operations.set(`${namespace}.${name}`, overloads);
  }
  const operationImports = new Map<string, EdmOperationImport>();
  for (const [name, raw] of Object.entries(container)) {
    if (name.startsWith('$') || name.startsWith('@')) continue;
    const s = raw as Json;
    const target = typeof s.$Function === 'string' ? s.$Function : typeof s.$Action === 'string' ? s.$Action : undefined;
    if (!target) continue;
    if (!operations.has(target)) throw new Error(`operation import ${name}: unknown operation ${target}`);
    operationImports.set(name, { name, kind: typeof s.$Function === 'string' ? 'function' : 'action', operation: target, includeInServiceDocument: s.$IncludeInServiceDocument === true });
  }
  const version = createHash('sha256').update(JSON.stringify(csdl)).update(JSON.stringify(storage)).digest('hex').slice(0, 16);
  return { version, namespace, containerName, entitySets, singletons, entityTypes, complexTypes, enumTypes, operations, operationImports, csdl, storageMapping: storage,
    ...(mapping.linkTables.size > 0 ? { linkTableNames: mapping.linkTables } : {}) };
}

/**
 * A referential constraint must refer to the whole key of its target (one dependent property per key
 * part, any key length); its dependent properties are kept in the order of the target's key, so storage
 * (edm/storage.ts) matches them part by part. Checked once every type is known.
 */
function orderForeignKeys(types: ReadonlyMap<string, EdmEntityType>, source: EdmEntityType, principals: ReadonlyMap<string, Record<string, string>>): void {
  for (const nav of source.navigations) {
    const constraint = principals.get(`${source.name}/${nav.name}`);
    if (!constraint || !nav.foreignKeys) continue;
    const target = types.get(nav.targetTypeName)!;
    const byPrincipal = new Map(Object.entries(constraint).map(([dependent, principal]) => [principal, dependent]));
    if (nav.collection) throw new Error(`${source.name}/${nav.name}: a referential constraint belongs on the single-valued side`);
    if (byPrincipal.size !== target.key.length || !target.key.every((k) => byPrincipal.has(k))) {
      throw new Error(`${source.name}/${nav.name}: the referential constraint must name every key property of ${target.name} (${target.key.join(', ')}), each once`);
    }
    const ordered = target.key.map((k) => byPrincipal.get(k)!);
    (nav.foreignKeys as string[]).splice(0, ordered.length, ...ordered);
  }
}

/**
 * The properties with the columns the storage mapping gives them (`entityTypes.<Type>.columns`); a
 * mapped property must exist and be primitive, enum or a collection, and no two columns may share a
 * name (ignoring case, as both engines compare identifiers here).
 */
function withColumns(props: EdmProperty[], columns: ReadonlyMap<string, string> | undefined, typeName: string): EdmProperty[] {
  if (!columns) return props;
  for (const name of columns.keys()) {
    const p = props.find((x) => x.name === name);
    if (!p) throw new Error(`storage mapping: ${typeName} has no property ${name} (columns)`);
    if (p.type.kind === 'complex' && !p.collection) throw new Error(`storage mapping: ${typeName}.${name} is structured; its members' columns follow its name (columns)`);
  }
  const out = props.map((p) => (columns.has(p.name) ? { ...p, column: columns.get(p.name)! } : p));
  const seen = new Map<string, string>();
  for (const p of out) {
    const column = (p.column ?? p.name).toLowerCase();
    const other = seen.get(column);
    if (other !== undefined) throw new Error(`storage mapping: ${typeName}.${p.name} and ${typeName}.${other} would share the column ${p.column ?? p.name}`);
    seen.set(column, p.name);
  }
  return out;
}
