/** $metadata: both CSDL representations validate against the OASIS schemas, annotations match the vocabularies, XML says what JSON says. */
import { annotateCapabilities, CAPABILITY_VALUE_TYPES, WRITES_SUPPORTED } from '../../src/edm/capabilities';
import { renderCsdlJson } from '../../src/edm/csdl-json';
import { renderCsdlXml, valueTypesOf } from '../../src/edm/csdl-xml';
import { loadModel, loadModelFromFile } from '../../src/edm/load-csdl';
import { clearMetadataCache, metadataDocument } from '../../src/edm/metadata-document';
import {
  checkAnnotations, findAll, loadVocabularies, parseXml, readConformance, validateCsdlJson, validateCsdlXml,
  type XmlNode,
} from '../helpers/csdl-validate';

type Json = Record<string, unknown>;

const LIMITS = { maxTop: 1000, maxExpandDepth: 3, pageSize: 50 };
const CAP = 'Org.OData.Capabilities.V1';
const model = loadModelFromFile();
const xml = metadataDocument(model, LIMITS, 'xml');
const json = metadataDocument(model, LIMITS, 'json');
const tree = parseXml(xml);

const byName = (nodes: XmlNode[], name: string): XmlNode => {
  const hit = nodes.find((n) => n.attrs.Name === name);
  if (!hit) throw new Error(`no element named ${name}`);
  return hit;
};
const typeNode = (name: string): XmlNode => byName(findAll(tree, 'EntityType'), name);
const member = (type: string, name: string): XmlNode => byName(typeNode(type).children, name);
const annotation = (node: XmlNode, term: string): XmlNode | undefined =>
  node.children.find((c) => c.name === 'Annotation' && c.attrs.Term === term);

/** A document that exercises what the CRM model does not: aliases, flags, operations, external annotations. */
const SAMPLE: Json = {
  $Version: '4.01',
  $EntityContainer: 'Sample.Container',
  $Reference: {
    'https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.json': { $Include: [{ $Namespace: 'Org.OData.Core.V1', $Alias: 'Core' }] },
    'https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Capabilities.V1.json': { $Include: [{ $Namespace: 'Org.OData.Capabilities.V1', $Alias: 'Capabilities' }] },
  },
  Sample: {
    $Alias: 'self',
    '@Core.Description': 'A <sample> & "quoted"\n\tschema',
    Color: { $Kind: 'EnumType', $IsFlags: true, Red: 1, 'Red@Core.Description': 'red', Blue: 2 },
    Code: { $Kind: 'TypeDefinition', $UnderlyingType: 'Edm.String', $MaxLength: 10 },
    Tint: { $Kind: 'Term', $Type: 'self.Color', $AppliesTo: ['EntityType', 'Property'], $Nullable: true },
    Info: { $Kind: 'ComplexType', Name: {}, Codes: { $Type: 'self.Code', $Collection: true } },
    Item: {
      $Kind: 'EntityType', $Key: ['Id', { InfoName: 'Info/Name' }],
      Id: { $Type: 'Edm.Int32' },
      Info: { $Type: 'self.Info' },
      Price: { $Type: 'Edm.Decimal', $Precision: 10, $Scale: 'variable', $Nullable: true },
      ParentId: { $Type: 'Edm.Int32', $Nullable: true },
      Parent: {
        $Kind: 'NavigationProperty', $Type: 'self.Item', $Nullable: true, $Partner: 'Children',
        $ReferentialConstraint: { ParentId: 'Id', 'ParentId@Core.Description': 'the parent key' },
        $OnDelete: 'Cascade', '$OnDelete@Core.Description': 'children go too',
      },
      Children: { $Kind: 'NavigationProperty', $Type: 'self.Item', $Collection: true, $Partner: 'Parent' },
      '@self.Tint': 'Red,Blue',
      '@Core.Description': 'an item',
      '@Core.Description@Core.IsLanguageDependent': true,
      '@Core.LongDescription': { $Apply: ['Item ', { $Path: 'Info/Name' }], $Function: 'odata.concat' },
    },
    Touch: [{ $Kind: 'Action', $IsBound: true, $Parameter: [{ $Name: 'item', $Type: 'self.Item' }, { $Name: 'note', $Nullable: true }] }],
    Count: [{ $Kind: 'Function', $Parameter: [{ $Name: 'min', $Type: 'Edm.Int32' }], $ReturnType: { $Type: 'Edm.Int64' } }],
    Container: {
      $Kind: 'EntityContainer',
      '@Capabilities.ConformanceLevel': 'Minimal',
      Items: {
        $Collection: true, $Type: 'self.Item', $NavigationPropertyBinding: { Parent: 'Items', Children: 'Items' },
        '@Capabilities.SortRestrictions': { NonSortableProperties: ['Info/Name'] },
        '@Capabilities.ReadRestrictions': { '@type': '#Org.OData.Capabilities.V1.ReadRestrictionsType', Readable: true },
        '@Core.Example': null,
      },
      Main: { $Type: 'self.Item' },
      TouchIt: { $Action: 'self.Touch' },
      CountIt: { $Function: 'self.Count', $IncludeInServiceDocument: true },
    },
    $Annotations: { 'self.Item/Id': { '@Core.Computed': true, '@Core.Description#short': 'id' } },
  },
};
const SORT_TYPES = { [`${CAP}.SortRestrictions`]: `${CAP}.SortRestrictionsType`, [`${CAP}.SortRestrictionsType/NonSortableProperties`]: 'Edm.PropertyPath' };

describe('renderCsdlXml on the CRM model', () => {
  it('writes Nullable="false" where CSDL JSON omits $Nullable and leaves nullable properties without it', () => {
    expect(member('Company', 'Name').attrs).toEqual({ Name: 'Name', Type: 'Edm.String', Nullable: 'false', MaxLength: '200' });
    expect(member('Contact', 'Id').attrs.Nullable).toBe('false');
    expect(member('Contact', 'FirstName').attrs).toEqual({ Name: 'FirstName', Type: 'Edm.String', MaxLength: '100' });
    expect(member('OpportunityProduct', 'Opportunity').attrs.Nullable).toBe('false');
    expect(member('Contact', 'Company').attrs.Nullable).toBeUndefined();
    expect(member('Contact', 'Groups').attrs).toEqual({ Name: 'Groups', Type: 'Collection(Crm.Group)', Partner: 'Contacts' });
    expect(byName(findAll(tree, 'ComplexType'), 'Recurrence').children.find((c) => c.attrs.Name === 'ClearedDates')?.attrs)
      .toMatchObject({ Type: 'Collection(Edm.Date)', Nullable: 'false' });
  });

  it('marks Contact/FullName as Core.Computed', () => {
    expect(annotation(member('Contact', 'FullName'), 'Org.OData.Core.V1.Computed')?.attrs.Bool).toBe('true');
    expect(annotation(member('Contact', 'FirstName'), 'Org.OData.Core.V1.Computed')).toBeUndefined();
  });

  it('writes facets, defaults, keys, referential constraints and OnDelete', () => {
    expect(member('Company', 'Revenue').attrs).toMatchObject({ Type: 'Edm.Decimal', Precision: '19', Scale: '4' });
    expect(member('Opportunity', 'Status').attrs).toMatchObject({ Type: 'Crm.OpportunityStatus', DefaultValue: 'Open' });
    expect(member('Contact', 'IsPrivate').attrs.DefaultValue).toBe('false');
    expect(findAll(typeNode('Team'), 'PropertyRef').map((r) => r.attrs.Name)).toEqual(['Id']);
    const company = member('Contact', 'Company');
    expect(company.children.map((c) => [c.name, c.attrs])).toEqual([
      ['ReferentialConstraint', { Property: 'CompanyId', ReferencedProperty: 'Id' }], ['OnDelete', { Action: 'SetNull' }],
    ]);
  });

  it('round-trips the entity sets, their types and navigation property bindings', () => {
    const sets = findAll(tree, 'EntitySet').map((s) => [s.attrs.Name, s.attrs.EntityType,
      Object.fromEntries(findAll(s, 'NavigationPropertyBinding').map((b) => [b.attrs.Path, b.attrs.Target]))]);
    expect(sets).toEqual([...model.entitySets.values()].map((s) => [s.name, s.entityType.qualifiedName, Object.fromEntries(s.navigationBindings)]));
  });

  it('round-trips every entity type member', () => {
    for (const type of model.entityTypes.values()) {
      const names = typeNode(type.name).children.filter((c) => c.name !== 'Key').map((c) => c.attrs.Name);
      expect(names).toEqual([...type.properties.map((p) => p.name), ...type.navigations.map((n) => n.name)]);
    }
  });

  it('refers to the XML editions of the OASIS vocabularies', () => {
    expect(findAll(tree, 'edmx:Reference').map((r) => [r.attrs.Uri, r.children[0].attrs])).toEqual([
      ['https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml', { Namespace: 'Org.OData.Core.V1', Alias: 'Core' }],
      ['https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Capabilities.V1.xml', { Namespace: 'Org.OData.Capabilities.V1', Alias: 'Capabilities' }],
      ['https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Aggregation.V1.xml', { Namespace: 'Org.OData.Aggregation.V1', Alias: 'Aggregation' }],
    ]);
    expect(tree.children[0].attrs).toEqual({ 'xmlns:edmx': 'http://docs.oasis-open.org/odata/ns/edmx', Version: '4.0' });
  });
});

describe('annotateCapabilities', () => {
  const container = findAll(tree, 'EntityContainer')[0];

  it('describes the service on the entity container', () => {
    expect(annotation(container, `${CAP}.ConformanceLevel`)?.attrs.EnumMember).toBe(`${CAP}.ConformanceLevelType/Intermediate`);
    expect(annotation(container, 'Org.OData.Core.V1.ODataVersions')?.attrs.String).toBe('4.0 4.01');
    expect(annotation(container, `${CAP}.BatchSupported`)?.attrs.Bool).toBe('true');
    expect(annotation(container, `${CAP}.KeyAsSegmentSupported`)?.attrs.Bool).toBe('false');
    const functions = findAll(annotation(container, `${CAP}.FilterFunctions`)!, 'String').map((s) => s.text);
    expect(functions).toEqual(expect.arrayContaining(['contains', 'startswith', 'substring', 'totaloffsetminutes', 'ceiling', 'eq', 'and']));
    expect(findAll(annotation(container, `${CAP}.SupportedFormats`)!, 'String').map((s) => s.text))
      .toContain('application/json;odata.metadata=minimal;IEEE754Compatible=true');
  });

  it('annotates every entity set: MaxLevels from the limits, writes on, Edited as the ETag', () => {
    const prop = (set: XmlNode, term: string, property: string): Json =>
      findAll(annotation(set, `${CAP}.${term}`)!, 'PropertyValue').find((p) => p.attrs.Property === property)!.attrs;
    expect(WRITES_SUPPORTED).toBe(true);
    for (const set of findAll(container, 'EntitySet')) {
      expect(prop(set, 'CountRestrictions', 'Countable')).toMatchObject({ Bool: 'true' });
      expect(annotation(set, `${CAP}.TopSupported`)?.attrs.Bool).toBe('true');
      expect(prop(set, 'ExpandRestrictions', 'MaxLevels')).toMatchObject({ Int: '3' });
      // reference data the model declares read-only for inserts and deletes (the model's own annotations win)
      const referenceData = set.attrs.Name === 'Countries';
      expect(prop(set, 'InsertRestrictions', 'Insertable')).toMatchObject({ Bool: String(!referenceData) });
      expect(prop(set, 'UpdateRestrictions', 'Updatable')).toMatchObject({ Bool: 'true' });
      expect(prop(set, 'DeleteRestrictions', 'Deletable')).toMatchObject({ Bool: String(!referenceData) });
      const concurrency = annotation(set, 'Org.OData.Core.V1.OptimisticConcurrency')!;
      expect(findAll(concurrency, 'PropertyPath').map((p) => p.text)).toEqual(['Edited']);
    }
  });

  it('returns a new document and leaves the input alone', () => {
    const before = JSON.stringify(model.csdl);
    const annotated = annotateCapabilities(model.csdl, LIMITS);
    expect(JSON.stringify(model.csdl)).toBe(before);
    expect(annotated).not.toBe(model.csdl);
    expect(((annotated.Crm as Json).Service as Json)[`@${CAP}.BatchSupported`]).toBe(true);
  });

  it('lets an annotation the model already carries win', () => {
    const doc = structuredClone(model.csdl) as Json;
    ((doc.Crm as Json).Service as Json).Teams = { ...(((doc.Crm as Json).Service as Json).Teams as Json), [`@${CAP}.SearchRestrictions`]: { Searchable: false } };
    const teams = ((annotateCapabilities(doc, LIMITS).Crm as Json).Service as Json).Teams as Json;
    expect(teams[`@${CAP}.SearchRestrictions`]).toEqual({ Searchable: false });
    expect(teams[`@${CAP}.TopSupported`]).toBe(true);
  });
});

describe('metadataDocument', () => {
  it('renders JSON with $Version 4.0 first and the capabilities in place', () => {
    expect(json.startsWith('{"$Version":"4.0","$EntityContainer":"Crm.Service"')).toBe(true);
    const doc = JSON.parse(json) as Json;
    expect(((doc.Crm as Json).Service as Json)[`@${CAP}.ConformanceLevel`]).toBe('Intermediate');
    expect(doc).toEqual(JSON.parse(renderCsdlJson(annotateCapabilities(model.csdl, LIMITS))));
  });

  it('caches per model version, limits and format', () => {
    clearMetadataCache();
    const first = metadataDocument(model, LIMITS, 'xml');
    expect(metadataDocument(model, { ...LIMITS }, 'xml')).toBe(first);
    expect(metadataDocument(model, { ...LIMITS, maxExpandDepth: 4 }, 'xml')).toContain('<PropertyValue Property="MaxLevels" Int="4"/>');
    const doc = structuredClone(model.csdl) as Json;
    ((doc.Crm as Json).Team as Json).Motto = { $MaxLength: 80, $Nullable: true };
    const replaced = loadModel(doc);
    expect(metadataDocument(replaced, LIMITS, 'xml')).toContain('<Property Name="Motto" Type="Edm.String" MaxLength="80"/>');
    expect(metadataDocument(model, LIMITS, 'xml')).not.toContain('Motto');
  });
});

describe('renderCsdlXml on a general document', () => {
  const sample = parseXml(renderCsdlXml(SAMPLE, { valueTypes: SORT_TYPES }));
  const item = byName(findAll(sample, 'EntityType'), 'Item');

  it('escapes XML special characters and keeps the text', () => {
    expect(annotation(findAll(sample, 'Schema')[0], 'Core.Description')?.attrs.String).toBe('A <sample> & "quoted"\n\tschema');
    expect(renderCsdlXml(SAMPLE)).toContain('String="A &lt;sample&gt; &amp; &quot;quoted&quot;&#xA;&#x9;schema"');
  });

  it('writes enumeration values, paths, records, nested and external annotations', () => {
    expect(annotation(item, 'self.Tint')?.attrs.EnumMember).toBe('Sample.Color/Red Sample.Color/Blue');
    expect(annotation(item, 'Core.Description')?.children[0].attrs).toEqual({ Term: 'Core.IsLanguageDependent', Bool: 'true' });
    const apply = annotation(item, 'Core.LongDescription')!.children[0];
    expect([apply.name, apply.attrs.Function, apply.children.map((c) => [c.name, c.text])]).toEqual(['Apply', 'odata.concat', [['String', 'Item '], ['Path', 'Info/Name']]]);
    const items = byName(findAll(sample, 'EntitySet'), 'Items');
    expect(findAll(annotation(items, 'Capabilities.SortRestrictions')!, 'PropertyPath').map((p) => p.text)).toEqual(['Info/Name']);
    expect(annotation(items, 'Capabilities.ReadRestrictions')!.children[0].attrs.Type).toBe(`${CAP}.ReadRestrictionsType`);
    expect(annotation(items, 'Core.Example')!.children[0].name).toBe('Null');
    const external = findAll(sample, 'Annotations')[0];
    expect([external.attrs.Target, external.children.map((c) => c.attrs)]).toEqual(['self.Item/Id',
      [{ Term: 'Core.Computed', Bool: 'true' }, { Term: 'Core.Description', Qualifier: 'short', String: 'id' }]]);
  });

  it('writes keys with aliases, operations, imports and singletons', () => {
    expect(findAll(item, 'PropertyRef').map((r) => r.attrs)).toEqual([{ Name: 'Id' }, { Name: 'Info/Name', Alias: 'InfoName' }]);
    expect(byName(findAll(sample, 'EnumType'), 'Color').attrs.IsFlags).toBe('true');
    expect(findAll(sample, 'Action')[0].children.map((p) => p.attrs)).toEqual([
      { Name: 'item', Type: 'self.Item', Nullable: 'false' }, { Name: 'note', Type: 'Edm.String' }]);
    expect(findAll(sample, 'ReturnType')[0].attrs).toEqual({ Type: 'Edm.Int64', Nullable: 'false' });
    expect(findAll(sample, 'Singleton')[0].attrs).toEqual({ Name: 'Main', Type: 'self.Item' });
    expect(findAll(sample, 'FunctionImport')[0].attrs).toEqual({ Name: 'CountIt', Function: 'self.Count', IncludeInServiceDocument: 'true' });
    expect(byName(findAll(sample, 'Term'), 'Tint').attrs).toEqual({ Name: 'Tint', Type: 'self.Color', AppliesTo: 'EntityType Property' });
    expect(findAll(item, 'OnDelete')[0].children[0].attrs.String).toBe('children go too');
    expect(tree.children[0].attrs.Version).toBe('4.0');
    expect(sample.children[0].attrs.Version).toBe('4.01');
  });
});

describe('$metadata against the OASIS conformance material', () => {
  const vocabularies = loadVocabularies();
  const vocabularyTypes = valueTypesOf(...new Set(vocabularies.values()));

  it('validates the CRM model as CSDL XML (edmx.xsd + edm.xsd)', async () => {
    expect(await validateCsdlXml(xml)).toEqual({ valid: true, errors: [] });
  });

  it('can fail: the OASIS counterexample test1.xml does not validate', async () => {
    const result = await validateCsdlXml(readConformance('csdl-schemas/test1.xml'));
    expect(result.valid).toBe(false);
    expect(result.errors.join('\n')).toContain('Key');
  });

  it('validates the CRM model as CSDL JSON (csdl.schema.json)', () => {
    expect(validateCsdlJson(json)).toEqual({ valid: true, errors: [] });
    const broken = JSON.parse(json) as Json;
    ((broken.Crm as Json).Contact as Json).FirstName = { $Nullable: 'yes' };
    expect(validateCsdlJson(broken).valid).toBe(false);
  });

  it('validates the general sample in both representations', async () => {
    expect(await validateCsdlXml(renderCsdlXml(SAMPLE, { valueTypes: vocabularyTypes }))).toEqual({ valid: true, errors: [] });
    expect(validateCsdlJson(renderCsdlJson(SAMPLE))).toEqual({ valid: true, errors: [] });
  });

  it('uses only terms of the referenced vocabularies, on elements they apply to, with values of their shape', () => {
    expect(checkAnnotations(JSON.parse(json) as Json, vocabularies)).toEqual([]);
  });

  it('can fail: the vocabulary check flags unknown terms and wrong shapes', () => {
    const doc = JSON.parse(json) as Json;
    const service = (doc.Crm as Json).Service as Json;
    service[`@${CAP}.MaxTop`] = 5;
    service[`@${CAP}.ConformanceLevel`] = 'Expert';
    (service.Teams as Json)[`@${CAP}.CountRestrictions`] = { Countable: 'yes', Counted: true };
    expect(checkAnnotations(doc, vocabularies)).toEqual([
      `Crm.Service@${CAP}.ConformanceLevel: expected members of ${CAP}.ConformanceLevelType, got "Expert"`,
      `Crm.Service: ${CAP}.MaxTop is not a term of ${CAP}`,
      `Crm.Service/Teams@${CAP}.CountRestrictions/Countable: expected a boolean, got "yes"`,
      `Crm.Service/Teams@${CAP}.CountRestrictions: ${CAP}.CountRestrictionsType has no property Counted`,
    ]);
  });

  it('types every emitted annotation value as the vocabularies do (CAPABILITY_VALUE_TYPES is complete)', () => {
    for (const [key, type] of Object.entries(CAPABILITY_VALUE_TYPES)) expect([key, vocabularyTypes[key]]).toEqual([key, type]);
    const annotated = annotateCapabilities(model.csdl, LIMITS);
    expect(renderCsdlXml(annotated, { valueTypes: vocabularyTypes })).toBe(xml);
  });
});
