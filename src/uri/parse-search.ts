/**
 * Parses `$search` (OData URL Conventions 4.01 §5.1.7): words and "phrases" combined with AND, OR, NOT
 * and parentheses; juxtaposed terms mean AND. NOT binds tightest, then AND, then OR.
 *
 * The text arrives with `%3B` and `%25` still encoded (see percent-decode.ts), because the ABNF's
 * `searchWord` excludes a raw `;` but allows an encoded one.
 */
import type { SearchExpr } from './ast';
import { finishDecode } from './percent-decode';
import { Scanner } from './scanner';

type Token =
  | { readonly kind: '(' | ')'; readonly position: number }
  | { readonly kind: 'word' | 'phrase'; readonly text: string; readonly position: number };

interface Cursor {
  readonly s: Scanner;
  readonly tokens: readonly Token[];
  i: number;
  /** open parentheses around the current term */
  depth: number;
}

/** Parentheses nest no deeper than $filter expressions may (parse-expression.ts). */
const MAX_DEPTH = 100;

export function parseSearch(text: string, where: string): SearchExpr {
  const s = new Scanner(text, where);
  s.skipSpaces(); // the ABNF allows BWS after `$search=`
  if (s.peek() === "'") return incomplete(s);
  const c: Cursor = { s, tokens: tokenize(s), i: 0, depth: 0 };
  const expr = or(c);
  const extra = peek(c);
  if (extra) s.fail(`unexpected '${'text' in extra ? extra.text : extra.kind}'`, extra.position);
  return expr;
}

/**
 * ABNF `searchExpr-incomplete`: a value in single quotes (`'"blue'`, `'('`) is taken as written,
 * as one phrase, so that half-typed input still searches.
 */
function incomplete(s: Scanner): SearchExpr {
  const start = s.pos;
  const text = finishDecode(s.quoted());
  refuseNul(s, text, start);
  s.skipSpaces();
  if (!s.done) s.fail(`unexpected '${s.rest().slice(0, 20)}' after the quoted search text`);
  if (text.trim() === '') s.fail('empty phrase', start);
  return { kind: 'term', text, phrase: true };
}

function tokenize(s: Scanner): Token[] {
  const tokens: Token[] = [];
  for (;;) {
    s.skipSpaces();
    if (s.done) return tokens;
    const position = s.pos;
    const c = s.peek();
    if (c === '(' || c === ')') {
      s.pos++;
      tokens.push({ kind: c, position });
    } else if (c === '"') {
      tokens.push({ kind: 'phrase', text: phrase(s), position });
      refuseNul(s, s.text.slice(position, s.pos), position);
    } else if (c === ';') {
      s.fail("a ';' in $search must be percent-encoded as %3B");
    } else {
      const word = /^[^\s()";]+/.exec(s.rest())?.[0] ?? s.fail(`unexpected '${c}'`);
      s.pos += word.length;
      tokens.push({ kind: 'word', text: finishDecode(word), position });
      refuseNul(s, word, position);
    }
  }
}

/** `"..."` with `\"` and `\\` as escapes */
function phrase(s: Scanner): string {
  const start = s.pos;
  s.pos++;
  let text = '';
  while (!s.done && s.peek() !== '"') {
    if (s.peek() === '\\' && (s.peek(1) === '"' || s.peek(1) === '\\')) s.pos++;
    text += s.text[s.pos++];
  }
  if (s.done) s.fail('unterminated phrase', start);
  s.pos++;
  if (text.trim() === '') s.fail('empty phrase', start);
  return finishDecode(text);
}

const peek = (c: Cursor, ahead = 0): Token | undefined => c.tokens[c.i + ahead];
const startsOperand = (t: Token | undefined): boolean => t !== undefined && t.kind !== ')';

/**
 * AND, OR and NOT are operators only where an operand follows (ABNF `searchNegateExpr`, `searchOrExpr`,
 * `searchAndExpr`); elsewhere they are plain words: `$search=NOT` looks for "NOT". They are case-sensitive.
 */
function isOperator(c: Cursor, word: 'AND' | 'OR' | 'NOT'): boolean {
  const t = peek(c);
  return t?.kind === 'word' && t.text === word && startsOperand(peek(c, 1));
}

function or(c: Cursor): SearchExpr {
  let left = and(c);
  while (isOperator(c, 'OR')) {
    c.i++;
    left = { kind: 'or', left, right: and(c) };
  }
  return left;
}

function and(c: Cursor): SearchExpr {
  let left = not(c);
  for (;;) {
    if (isOperator(c, 'AND')) c.i++;
    else if (!startsOperand(peek(c)) || isOperator(c, 'OR')) return left;
    left = { kind: 'and', left, right: not(c) };
  }
}

function not(c: Cursor): SearchExpr {
  // a loop, not recursion: `NOT NOT … x` may be long
  let negations = 0;
  while (isOperator(c, 'NOT')) {
    c.i++;
    negations++;
  }
  let expr = term(c);
  for (; negations > 0; negations--) expr = { kind: 'not', operand: expr };
  return expr;
}

function term(c: Cursor): SearchExpr {
  const t = peek(c);
  if (!t) return c.s.fail('expected a search term', c.s.text.length);
  if (t.kind === ')') return c.s.fail("unexpected ')'", t.position);
  c.i++;
  if (t.kind === 'word' || t.kind === 'phrase') return { kind: 'term', text: t.text, phrase: t.kind === 'phrase' };
  if (++c.depth > MAX_DEPTH) c.s.fail(`parentheses nested deeper than ${MAX_DEPTH} levels`, t.position);
  const inner = or(c);
  if (peek(c)?.kind !== ')') c.s.fail("expected ')'", peek(c)?.position ?? c.s.text.length);
  c.i++;
  c.depth--;
  return inner;
}

/** PostgreSQL cannot hold U+0000 in text, so neither engine is asked to look for it. */
function refuseNul(s: Scanner, raw: string, start: number): void {
  const at = raw.indexOf('\u0000');
  if (at >= 0) s.fail('U+0000 (NUL) is not allowed in a search term', start + at);
}
