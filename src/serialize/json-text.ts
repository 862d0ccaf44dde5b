/**
 * JSON text with exact numbers. OData JSON writes Edm.Int64 and Edm.Decimal as JSON numbers (unless
 * IEEE754Compatible), and a JavaScript number would round any value beyond 2^53 or with more than
 * ~16 significant digits. Node 20 has no `JSON.rawJSON`, so an exact number travels through the
 * native `JSON.stringify` as a marked string and is unquoted afterwards.
 *
 * The marker starts with U+0000, which `JSON.stringify` always writes as the escape `\u0000`. The
 * replacement only matches a string that opens right after `:`, `,` or `[`: inside a JSON string a
 * `"` is always preceded by a backslash, and a closing quote is never followed by a backslash, so
 * no string value (not even one holding U+0000) can be mistaken for a marker.
 */

/** An exact number on its way into JSON text (see `exactNumber`). */
export type ExactNumber = string & { readonly __exactNumber: unique symbol };

const MARK = '\u0000#';
const MARKED = /(?<=[:,[])"\\u0000#(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"/g;
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
  return text.includes('"\\u0000#') ? text.replace(MARKED, '$1') : text;
}
