/**
 * Parses `$search` (OData URL Conventions §5.1.7): words and "phrases" combined with AND, OR, NOT
 * and parentheses; juxtaposed terms mean AND. NOT binds tightest, then AND, then OR.
 */
import type { SearchExpr } from './ast';
import { Scanner } from './scanner';

export function parseSearch(text: string, where: string): SearchExpr {
  const s = new Scanner(text, where);
  const expr = or(s);
  s.skipSpaces();
  if (!s.done) s.fail(`unexpected '${s.rest().slice(0, 20)}'`);
  return expr;
}

function or(s: Scanner): SearchExpr {
  let left = and(s);
  while (s.acceptWord('OR')) left = { kind: 'or', left, right: and(s) };
  return left;
}

function and(s: Scanner): SearchExpr {
  let left = not(s);
  for (;;) {
    if (s.acceptWord('AND')) { left = { kind: 'and', left, right: not(s) }; continue; }
    s.skipSpaces();
    if (s.done || s.peek() === ')' || /^OR(?![^ )])/.test(s.rest())) return left;
    left = { kind: 'and', left, right: not(s) };
  }
}

function not(s: Scanner): SearchExpr {
  s.skipSpaces();
  if (/^NOT[ (]/.test(s.rest())) {
    s.pos += 3;
    return { kind: 'not', operand: not(s) };
  }
  return term(s);
}

function term(s: Scanner): SearchExpr {
  s.skipSpaces();
  if (s.done) s.fail('expected a search term');
  if (s.accept('(')) {
    const inner = or(s);
    s.expect(')');
    return inner;
  }
  if (s.peek() === '"') {
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
    return { kind: 'term', text, phrase: true };
  }
  const m = /^[^\s()"]+/.exec(s.rest());
  if (!m || m[0] === 'AND' || m[0] === 'OR' || m[0] === 'NOT') s.fail('expected a search term');
  s.pos += m[0].length;
  return { kind: 'term', text: m[0], phrase: false };
}
