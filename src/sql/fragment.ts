/**
 * A SQL fragment: text with `?` placeholders and its bindings, composed without ever splicing a value
 * into the text. Identifiers come only from the model and are quoted by `id()`.
 */
export interface Fragment {
  readonly sql: string;
  readonly bindings: readonly unknown[];
}

export type FragmentPart = Fragment | string | number;

export function raw(sqlText: string): Fragment {
  return { sql: sqlText, bindings: [] };
}

export function param(value: unknown): Fragment {
  return { sql: '?', bindings: [value] };
}

/**
 * A row count (LIMIT/OFFSET) written into the text. The one value not bound: SQLite (built with
 * STAT4, as better-sqlite3 is) plans with a bound LIMIT's value, so binding it forces a re-prepare on
 * every execution, which costs more than the query. Only a safe non-negative integer the server
 * computed gets here; anything else is a bug and throws.
 */
export function rowCount(n: number): Fragment {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`row count ${n} is not a non-negative integer`);
  return raw(String(n));
}

const quoted = new Map<string, Fragment>();
const MAX_QUOTED = 10_000;

/**
 * A quoted identifier; `a.b` quotes each part. Only model names (and the compiler's aliases) reach
 * here, a bounded set, so each is quoted once; the bound only guards against a model gone wild.
 */
export function id(name: string): Fragment {
  let f = quoted.get(name);
  if (f === undefined) {
    f = raw(name.split('.').map((p) => `"${p.replace(/"/g, '""')}"`).join('.'));
    if (quoted.size >= MAX_QUOTED) quoted.clear();
    quoted.set(name, f);
  }
  return f;
}

/** Tagged template: `${fragment}` inlines a fragment; any other value becomes a binding. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Fragment {
  // one bound value (a dialect binding a value): an array of exactly one, not a growable one
  if (values.length === 1 && !isFragment(values[0])) return { sql: `${strings[0]}?${strings[1]}`, bindings: [values[0]] };
  let text = strings[0];
  const bindings: unknown[] = [];
  // a plain loop: the compiler calls this for every bound value of every statement
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isFragment(v)) {
      text += v.sql;
      for (let b = 0; b < v.bindings.length; b++) bindings.push(v.bindings[b]);
    } else {
      text += '?';
      bindings.push(v);
    }
    text += strings[i + 1];
  }
  return { sql: text, bindings };
}

export function join(parts: readonly Fragment[], separator: string): Fragment {
  return { sql: parts.map((p) => p.sql).join(separator), bindings: parts.flatMap((p) => p.bindings) };
}

export function isFragment(v: unknown): v is Fragment {
  return typeof v === 'object' && v !== null && 'sql' in v && 'bindings' in v;
}
