/**
 * A small evaluator of $filter expressions written from OData 4.01 URL Conventions §5.1.1, used to
 * check the service's null logic. Each expression is built once and carries both its URL text and
 * its meaning:
 * - eq is true for two nulls and false for one; ne is its negation; gt/ge/lt/le are false with a null
 *   operand; `in` is false for a null left operand (a null list member matches nothing); `has` is
 *   false for null. These never yield null.
 * - Canonical functions and arithmetic with a null operand are null.
 * - and/or/not are three-valued: `null and false` is false, `null or true` true, `not null` null.
 * - any() is true when the body is true for some member, all() when it is true for every member.
 * - A row is selected only when the whole condition is true.
 */
export type Value = string | number | boolean | null;
export type Entity = { readonly [name: string]: unknown };

export interface Env {
  /** the row being filtered ($it) */
  readonly it: Entity;
  /** lambda variables in scope */
  readonly vars: ReadonlyMap<string, Entity>;
}

export interface Expr {
  readonly text: string;
  readonly eval: (env: Env) => Value;
}

function walk(env: Env, path: string): unknown {
  const segments = path.split('/');
  let current: unknown;
  if (segments[0] === '$it') {
    current = env.it;
    segments.shift();
  } else if (env.vars.has(segments[0])) {
    current = env.vars.get(segments[0]);
    segments.shift();
  } else {
    current = env.it;
  }
  for (const s of segments) {
    if (current === null || current === undefined) return null;
    current = (current as Entity)[s];
  }
  return current === undefined ? null : current;
}

/** A property path: `JobTitle`, `x/Company/Parent/EmployeeCount`, `$it/Name`. */
export const prop = (path: string): Expr => ({ text: path, eval: (env) => walk(env, path) as Value });

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

export function lit(value: string | number | null): Expr {
  const text = value === null ? 'null' : typeof value === 'string' ? quote(value) : String(value);
  return { text, eval: () => value };
}

export const date = (iso: string): Expr => ({ text: iso, eval: () => iso });
export const member = (enumType: string, name: string): Expr => ({ text: `Crm.${enumType}'${name}'`, eval: () => name });

type Ordering = 'gt' | 'ge' | 'lt' | 'le';
const ORDER: Record<Ordering, (a: string | number, b: string | number) => boolean> = {
  gt: (a, b) => a > b, ge: (a, b) => a >= b, lt: (a, b) => a < b, le: (a, b) => a <= b,
};

export function cmp(op: 'eq' | 'ne' | Ordering | 'has', left: Expr, right: Expr): Expr {
  const text = `${left.text} ${op} ${right.text}`;
  return {
    text,
    eval: (env) => {
      const a = left.eval(env);
      const b = right.eval(env);
      switch (op) {
        case 'eq': return a === b;
        case 'ne': return a !== b;
        case 'has': return a !== null && a === b;
        default: return a !== null && b !== null && ORDER[op](a as string | number, b as string | number);
      }
    },
  };
}

export function inList(left: Expr, list: readonly Expr[]): Expr {
  return {
    text: `${left.text} in (${list.map((x) => x.text).join(',')})`,
    eval: (env) => {
      const a = left.eval(env);
      return a !== null && list.some((x) => x.eval(env) === a);
    },
  };
}

const FUNCTIONS = {
  contains: (a: string, b: string) => a.includes(b),
  startswith: (a: string, b: string) => a.startsWith(b),
  endswith: (a: string, b: string) => a.endsWith(b),
  length: (a: string) => [...a].length,
  indexof: (a: string, b: string) => a.indexOf(b),
  substring: (a: string, start: number) => a.slice(start),
  tolower: (a: string) => a.toLowerCase(),
  concat: (a: string, b: string) => a + b,
  year: (a: string) => Number(a.slice(0, 4)),
} as const;

export function fn(name: keyof typeof FUNCTIONS, ...args: Expr[]): Expr {
  const apply = FUNCTIONS[name] as (...xs: never[]) => Value;
  return {
    text: `${name}(${args.map((a) => a.text).join(',')})`,
    eval: (env) => {
      const values = args.map((a) => a.eval(env));
      return values.some((v) => v === null) ? null : apply(...(values as never[]));
    },
  };
}

const ARITHMETIC = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  // integer operands: integer division and remainder truncate toward zero, as in SQL
  div: (a: number, b: number) => Math.trunc(a / b),
  mod: (a: number, b: number) => a % b,
} as const;

export function arith(op: keyof typeof ARITHMETIC, left: Expr, right: Expr): Expr {
  return {
    text: `${left.text} ${op} ${right.text}`,
    eval: (env) => {
      const a = left.eval(env);
      const b = right.eval(env);
      return a === null || b === null ? null : ARITHMETIC[op](a as number, b as number);
    },
  };
}

export function not(operand: Expr): Expr {
  return { text: `not (${operand.text})`, eval: (env) => { const v = operand.eval(env); return v === null ? null : !v; } };
}

export function and(left: Expr, right: Expr): Expr {
  return {
    text: `(${left.text}) and (${right.text})`,
    eval: (env) => {
      const a = left.eval(env);
      const b = right.eval(env);
      if (a === false || b === false) return false;
      return a === null || b === null ? null : true;
    },
  };
}

export function or(left: Expr, right: Expr): Expr {
  return {
    text: `(${left.text}) or (${right.text})`,
    eval: (env) => {
      const a = left.eval(env);
      const b = right.eval(env);
      if (a === true || b === true) return true;
      return a === null || b === null ? null : false;
    },
  };
}

/** `source/any(variable: body)` or `all`; `source` is a collection path (`Contacts`, `o/Contacts`). */
export function lambda(op: 'any' | 'all', source: string, variable: string, body: Expr): Expr {
  return {
    text: `${source}/${op}(${variable}:${body.text})`,
    eval: (env) => {
      const members = (walk(env, source) ?? []) as readonly Entity[];
      const holds = (m: Entity) => body.eval({ it: env.it, vars: new Map([...env.vars, [variable, m]]) }) === true;
      return op === 'any' ? members.some(holds) : members.every(holds);
    },
  };
}

/** The rows a filter selects: those for which it is true. */
export function selected(rows: readonly Entity[], filter: Expr): Entity[] {
  return rows.filter((it) => filter.eval({ it, vars: new Map() }) === true);
}
