/**
 * Conformance harness: feeds the OASIS OData ABNF test cases of the URL-level rules to src/uri and
 * reports which share of the cases within the service's features the parser handles. Positive cases
 * must parse; negative ones (with `FailAt`) must be rejected with a UriError.
 *
 * The cases are kept in conformance/oasis/abnf (see conformance/oasis/SOURCES.md). Scope is decided by
 * OUT_OF_SCOPE below, in one table.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { UriError } from '../../src/errors/odata-error';
import { parseExpression } from '../../src/uri/parse-expression';
import { expressionContext } from '../../src/uri/parse-query-options';
import { parseQueryString, parseResourcePath, parseUri } from '../../src/uri/parse-uri';
import { decodeComponent } from '../../src/uri/percent-decode';
import { Scanner } from '../../src/uri/scanner';

const CASES_FILE = path.resolve(__dirname, '../../conformance/oasis/abnf/odata-abnf-testcases.yaml');

/** Rules whose input is (part of) a request URL. ABNF rule names are case-insensitive (RFC 5234 §2.1). */
const URL_RULES = ['odatauri', 'odatarelativeuri', 'resourcepath', 'queryoptions', 'filter', 'expand', 'select', 'orderby', 'commonexpr', 'boolcommonexpr', 'search'];

/** Achieved shares, rounded down: a drop below them is a regression. */
const MIN_POSITIVE_SHARE = 100;
const MIN_NEGATIVE_SHARE = 100;

interface RawCase { Name: string; Rule: string; Input: string | number | boolean; FailAt?: number }
type Constraints = Record<string, readonly string[] | null>;

interface Case {
  readonly name: string;
  readonly rule: string;
  readonly input: string;
  /** input without scheme and authority, percent-encoding undone: for classifying, never parsed */
  readonly decoded: string;
  readonly negative: boolean;
}

/** Names of model elements, from the file's `Constraints` section. */
interface Model {
  readonly operations: ReadonlySet<string>;
  readonly typeNames: ReadonlySet<string>;
  /** type names that are not also property names, so they mark a type cast even unqualified */
  readonly typeOnlyNames: ReadonlySet<string>;
  readonly namespaces: readonly string[];
  readonly streams: ReadonlySet<string>;
  readonly complexProperties: ReadonlySet<string>;
  readonly collectionNavigations: ReadonlySet<string>;
  readonly keyPathLiterals: ReadonlySet<string>;
  readonly customNames: ReadonlySet<string>;
  /** names that can start a resource path: sets, singletons, imports */
  readonly containerChildren: ReadonlySet<string>;
}

function modelFrom(constraints: Constraints): Model {
  const names = (test: (key: string) => boolean) =>
    new Set(Object.entries(constraints).filter(([key]) => test(key)).flatMap(([, list]) => list ?? []));
  const properties = names((k) => /Property$/.test(k));
  const types = names((k) => k === 'entityTypeName' || k === 'complexTypeName');
  return {
    operations: names((k) => /Function|^action/.test(k)),
    typeNames: types,
    typeOnlyNames: new Set([...types].filter((t) => !properties.has(t))),
    namespaces: [...names((k) => k === 'namespacePart')],
    streams: names((k) => k === 'streamProperty'),
    complexProperties: names((k) => k === 'complexProperty' || k === 'complexColProperty'),
    collectionNavigations: names((k) => k === 'entityColNavigationProperty'),
    keyPathLiterals: names((k) => k === 'keyPathLiteral'),
    customNames: names((k) => k === 'customName'),
    containerChildren: names((k) => /^(entitySetName|singletonEntity|.*FunctionImport|actionImport)$/.test(k)),
  };
}

const SYSTEM_OPTIONS = ['filter', 'select', 'expand', 'orderby', 'top', 'skip', 'count', 'search', 'levels', 'skiptoken', 'format', 'id', 'apply', 'compute', 'index', 'schemaversion', 'deltatoken'];
const EXPRESSION_RULES = ['commonexpr', 'boolcommonexpr', 'filter'];

const QUERY_RULES = ['queryoptions', 'filter', 'expand', 'select', 'orderby', 'search'];

/** a regular expression matching any of `names` as a whole word */
const word = (names: Iterable<string>) => new RegExp(`(^|[^\\w@])(${[...names].join('|')})(?!\\w)`);

function queryOf(c: Case): string {
  if (QUERY_RULES.includes(c.rule)) return c.input;
  if (c.rule === 'odatauri' || c.rule === 'odatarelativeuri') return c.input.split('?')[1] ?? '';
  return '';
}

/** the raw resource path's segments */
function pathSegments(c: Case, m: Model): string[] {
  const text = c.rule === 'odatauri' ? belowServiceRoot(c.input, m) : c.rule === 'odatarelativeuri' || c.rule === 'resourcepath' ? c.input : '';
  return text.split('?')[0].split('/');
}

const optionNames = (c: Case) => queryOf(c).split('&').filter(Boolean).map((p) => decodeURIComponent(p.split('=')[0]));
const isCustomOption = (name: string) => !/^[$@]/.test(name) && !SYSTEM_OPTIONS.includes(name.toLowerCase());

/**
 * Cases outside the service's features (first match wins). Everything else is in scope: entity sets,
 * keys, navigation, $count, $value, $ref, property paths; $filter operators, canonical functions, in,
 * has, enums, any/all, core literals; $select, $expand with nested options and $levels, $orderby, $top,
 * $skip, $count, $search, $format, $skiptoken, parameter aliases, custom query options.
 */
const OUT_OF_SCOPE: readonly { readonly reason: string; readonly applies: (c: Case, m: Model) => boolean }[] = [
  { reason: 'absolute-URI syntax (scheme, authority): the HTTP layer parses it', applies: (c) => c.rule === 'odatauri' && !/^https?:\/\/[^/?#]*\//i.test(c.input) },
  { reason: '$metadata, $batch, context URLs', applies: (c) => /\$metadata|\$batch/.test(c.decoded) },
  { reason: '$entity, $crossjoin, $all, $query, $each, /$filter() segments', applies: (c) => /\$entity|\$crossjoin|\$all\b|\$query|\$each|\/\$filter\(/.test(c.decoded) },
  { reason: '$root, $it, $this', applies: (c) => /\$root|\$it\b|\$this\b/.test(c.decoded) },
  { reason: '$apply, $compute, $index, $schemaversion, $deltatoken', applies: (c) => /(^|[?&;(])\$?(apply|compute|index|schemaversion|deltatoken)=/i.test(c.decoded) },
  { reason: 'geo literals and functions', applies: (c) => /\bgeo\.|geography'|geometry'/i.test(c.decoded) },
  { reason: 'JSON arrays and objects (4.01 §5.1.1.14.2)', applies: (c) => /[[\]{}]/.test(c.decoded) },
  { reason: 'type casts (cast, isof, type segments)', applies: (c, m) => /\b(cast|isof)\(/.test(c.decoded) || word(m.typeOnlyNames).test(c.decoded) || new RegExp(`\\b(${m.namespaces.join('|')})\\.(${[...m.typeNames].join('|')})\\b`).test(c.decoded) },
  { reason: 'functions and actions', applies: (c, m) => word(m.operations).test(c.decoded) || new RegExp(`\\b(${m.namespaces.join('|')})\\.\\*`).test(c.decoded) || pathSegments(c, m).some((s) => s.endsWith('()')) },
  { reason: 'annotations (@Term in paths, $select, $expand)', applies: (c) => [...c.decoded.matchAll(/@([\w.]+)(?!\w*=)/g)].some(([, name]) => !c.decoded.includes(`@${name}=`)) },
  { reason: 'stream properties', applies: (c, m) => word(m.streams).test(c.decoded) || /expand=\$value/.test(c.decoded) },
  { reason: 'key-as-segment and ordinal index (4.01 §4.3.6, §4.10)', applies: (c, m) => pathSegments(c, m).slice(1).some((s) => /^-?\d/.test(s) || m.keyPathLiterals.has(s)) },
  { reason: 'key access inside expressions (4.01 §5.1.1.15)', applies: (c, m) => EXPRESSION_RULES.includes(c.rule) && new RegExp(`(^|[^\\w@])(${[...m.collectionNavigations].join('|')})\\(`).test(c.decoded) },
  { reason: '$count with options inside expressions', applies: (c) => /filter=[^&]*\/\$count\(/.test(c.decoded) || (EXPRESSION_RULES.includes(c.rule) && /\/\$count\(/.test(c.decoded)) },
  { reason: '$select with nested options (4.01 §5.1.3)', applies: (c) => /select=[^&;)]*[\w*]\(/i.test(c.decoded) },
  { reason: 'needs the model: $value of a complex property', applies: (c, m) => word([...m.complexProperties].map((p) => `${p}/\\$value`)).test(c.decoded) },
  { reason: 'needs the model: which custom query options exist', applies: (c, m) => optionNames(c).some((n) => isCustomOption(n) && !m.customNames.has(n)) },
  { reason: 'repeats a system query option (rejected by design; the ABNF cannot express uniqueness)', applies: (c) => new Set(optionNames(c).map((n) => n.replace(/^\$/, '').toLowerCase())).size < optionNames(c).length },
];

function outOfScopeReason(c: Case, m: Model): string | undefined {
  return OUT_OF_SCOPE.find((entry) => entry.applies(c, m))?.reason;
}

/** The service root is what precedes the first segment that can start a resource path. */
function belowServiceRoot(uri: string, m: Model): string {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(uri);
  if (!authority) throw new Error(`not an absolute URI: ${uri}`);
  const rest = uri.slice(authority[0].length).replace(/^\//, '');
  const [rawPath, ...query] = rest.split('?');
  const segments = rawPath.split('/');
  const first = segments.findIndex((s) => s.startsWith('$') || m.containerChildren.has(decodeURIComponent(s).replace(/\(.*$/, '')));
  const below = first < 0 ? '' : segments.slice(first).join('/');
  return query.length ? `${below}?${query.join('?')}` : below;
}

function parseExpressionText(input: string): void {
  const s = new Scanner(decodeComponent(input, 'expression'), 'expression');
  parseExpression(s, expressionContext({ aliases: new Map(), nested: false }));
  s.skipSpaces();
  if (!s.done) s.fail(`unexpected '${s.rest()}'`);
}

function runCase(c: Case, m: Model): void {
  const relative = (text: string) => {
    const q = text.indexOf('?');
    parseUri(q < 0 ? text : text.slice(0, q), q < 0 ? '' : text.slice(q + 1));
  };
  switch (c.rule) {
    case 'odatauri': return relative(belowServiceRoot(c.input, m));
    case 'odatarelativeuri': return relative(c.input);
    case 'resourcepath': parseResourcePath(c.input); return;
    case 'commonexpr': case 'boolcommonexpr': return parseExpressionText(c.input);
    default: parseQueryString(c.input); // queryOptions and the single-option rules ($filter=...)
  }
}

interface Outcome { readonly c: Case; readonly reason?: string; readonly error?: unknown; readonly passed: boolean }

function evaluate(c: Case, m: Model): Outcome {
  const reason = outOfScopeReason(c, m);
  try {
    runCase(c, m);
    return { c, reason, passed: !c.negative };
  } catch (error) {
    return { c, reason, error, passed: c.negative && error instanceof UriError };
  }
}

function loadCases(): { cases: Case[]; model: Model } {
  // The file repeats its `TestCases:` key (the first one empty), so keys may not be unique.
  const doc = YAML.parse(fs.readFileSync(CASES_FILE, 'utf8'), { uniqueKeys: false }) as { TestCases: RawCase[]; Constraints: Constraints };
  const cases = doc.TestCases.filter((t) => URL_RULES.includes(t.Rule.toLowerCase())).map((t): Case => {
    const input = String(t.Input ?? '');
    let decoded = input.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
    try { decoded = decodeURIComponent(decoded); } catch { /* malformed on purpose: classify the raw text */ }
    return { name: t.Name, rule: t.Rule.toLowerCase(), input, decoded, negative: t.FailAt !== undefined };
  });
  return { cases, model: modelFrom(doc.Constraints) };
}

const pct = (n: number, d: number) => (d === 0 ? 100 : Math.floor((1000 * n) / d) / 10);

function summary(outcomes: readonly Outcome[]): string {
  const inScope = outcomes.filter((o) => !o.reason);
  const pos = inScope.filter((o) => !o.c.negative);
  const neg = inScope.filter((o) => o.c.negative);
  const posOk = pos.filter((o) => o.passed).length;
  const negOk = neg.filter((o) => o.passed).length;
  const lines = [
    `OASIS ABNF URL cases (${outcomes.length} cases of rules ${URL_RULES.join(', ')})`,
    `  in scope: ${inScope.length}`,
    `    positive accepted: ${posOk}/${pos.length} = ${pct(posOk, pos.length)}%`,
    `    negative rejected: ${negOk}/${neg.length} = ${pct(negOk, neg.length)}%`,
    `  out of scope: ${outcomes.length - inScope.length} (${outcomes.filter((o) => o.reason && !o.c.negative).length} positive, ${outcomes.filter((o) => o.reason && o.c.negative).length} negative)`,
  ];
  for (const { reason } of OUT_OF_SCOPE) {
    const these = outcomes.filter((o) => o.reason === reason);
    if (these.length === 0) continue;
    const p = these.filter((o) => !o.c.negative);
    const n = these.filter((o) => o.c.negative);
    lines.push(`    ${these.length} × ${reason} (parser accepts ${p.filter((o) => o.passed).length}/${p.length} positive, rejects ${n.filter((o) => o.passed).length}/${n.length} negative)`);
  }
  const gaps = inScope.filter((o) => !o.passed);
  lines.push(`  gaps (in scope, ${gaps.length}):`);
  for (const o of gaps) {
    const why = o.error instanceof Error ? o.error.message : o.c.negative ? 'accepted' : String(o.error);
    lines.push(`    - [${o.c.negative ? 'negative accepted' : 'positive rejected'}] ${o.c.rule}: ${o.c.name} | ${o.c.input} | ${why}`);
  }
  return lines.join('\n');
}

describe('OASIS ABNF URL test cases', () => {
  let outcomes: Outcome[] = [];
  const share = (negative: boolean) => {
    const these = outcomes.filter((o) => !o.reason && o.c.negative === negative);
    return pct(these.filter((o) => o.passed).length, these.length);
  };

  beforeAll(() => {
    const { cases, model } = loadCases();
    outcomes = cases.map((c) => evaluate(c, model));
    console.log(summary(outcomes));
  });

  it('loads the URL-level cases and keeps most of them in scope', () => {
    expect(outcomes.length).toBeGreaterThan(500);
    expect(outcomes.filter((o) => !o.reason).length).toBeGreaterThan(200);
  });

  it('accepts the in-scope positive cases', () => {
    expect(share(false)).toBeGreaterThanOrEqual(MIN_POSITIVE_SHARE);
  });

  it('rejects the in-scope negative cases with a UriError', () => {
    expect(share(true)).toBeGreaterThanOrEqual(MIN_NEGATIVE_SHARE);
  });
});
