/**
 * JSON text with exact numbers. OData JSON writes Edm.Int64 and Edm.Decimal as JSON numbers (unless
 * IEEE754Compatible), and a JavaScript number would round any value beyond 2^53 or with more than
 * ~16 significant digits. Node 20 has no `JSON.rawJSON`, so an exact number travels through the
 * native `JSON.stringify` (kept for its speed) as a marked string and is unquoted afterwards.
 *
 * The marker is U+0000, a random per-process nonce and `#`; `JSON.stringify` always writes U+0000 as
 * the escape `\u0000`. Only a marked string where a value starts (right after `:`, `,` or `[`) is
 * unquoted: inside a JSON string a `"` is always preceded by a backslash, and the service refuses
 * U+0000 in every input, so a stored string cannot carry the marker, let alone guess the nonce.
 */

import { randomBytes } from 'node:crypto';

/** An exact number on its way into JSON text (see `exactNumber`). */
export type ExactNumber = string & { readonly __exactNumber: unique symbol };

const NONCE = randomBytes(6).toString('hex');
const MARK = `\u0000${NONCE}#`;
/** how JSON.stringify writes the start of a marked string */
const MARKED_OPEN = `"\\u0000${NONCE}#`;
const STARTS_VALUE: ReadonlySet<string> = new Set([':', ',', '[']);
const NUMBER_TEXT = /^-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/**
 * A value that `jsonText` writes as the JSON number `text`, digit for digit. Text that is not a JSON
 * number (it never should be: callers pass canonical decimal or integer text) stays a string.
 */
export function exactNumber(text: string): ExactNumber | string {
  return NUMBER_TEXT.test(text) ? (MARK + normalise(text)) as ExactNumber : text;
}

/** JSON forbids leading zeros in the integer part ("007" → "7", "-00.5" → "-0.5"). */
function normalise(text: string): string {
  return text.replace(/^(-?)0+(?=[0-9])/, '$1');
}

/** `JSON.stringify(value)` with every `exactNumber` written as its number text. */
export function jsonText(value: unknown): string {
  return unmarkNumbers(JSON.stringify(value));
}

/** A value as plain text (`/$value`): an exact number as its digits. */
export function plainText(value: unknown): string {
  const text = String(value);
  return text.startsWith(MARK) ? text.slice(MARK.length) : text;
}

/** Unquotes the exact numbers in JSON text made by `JSON.stringify` (a whole document or whole members). */
export function unmarkNumbers(text: string): string {
  let at = text.indexOf(MARKED_OPEN);
  if (at < 0) return text;
  let out = '';
  let copied = 0;
  while (at >= 0) {
    const close = text.indexOf('"', at + MARKED_OPEN.length);
    if (close < 0) break;
    const digits = text.slice(at + MARKED_OPEN.length, close);
    // a marker only where a value starts (see the module comment), holding a number
    if (at > 0 && STARTS_VALUE.has(text[at - 1]) && NUMBER_TEXT.test(digits)) {
      out += text.slice(copied, at) + digits;
      copied = close + 1;
    }
    at = text.indexOf(MARKED_OPEN, close + 1);
  }
  return out + text.slice(copied);
}
