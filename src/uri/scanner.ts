/**
 * A character scanner over one decoded query option (or path segment) with positions for errors.
 * It recognises OData's primitive literal forms; it knows nothing of the model.
 */
import { UriError } from '../errors/odata-error';
import type { Literal } from './ast';
import { parseDateTimeOffset, parseDate, parseTimeOfDay, parseDuration } from './temporal';

const IDENT_START = /[A-Za-z_\u00C0-\uFFFF]/;
const IDENT_PART = /[A-Za-z0-9_\u00C0-\uFFFF]/;
const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Za-z_])/;
const DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,12})?)?(Z|[+-]\d{2}:\d{2})/i;
const DATE = /^-?\d{4,}-\d{2}-\d{2}(?![0-9T:])/;
const TIME = /^\d{2}:\d{2}(:\d{2}(\.\d{1,12})?)?(?![0-9])/;
const NUMBER = /^-?(\d+)(\.\d+)?([eE][+-]?\d+)?([mMdDfFlL])?(?![0-9A-Za-z_.])/;
const SPECIAL_FLOAT = /^(INF|-INF|NaN)(?![A-Za-z0-9_])/;
const INT32_MAX = 2147483647n;

export class Scanner {
  pos = 0;

  constructor(readonly text: string, readonly where: string) {}

  fail(message: string, position = this.pos): never {
    throw new UriError('SYNTAX_ERROR', `${message} at position ${position} in ${this.where}`, { target: this.where, position });
  }

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(offset = 0): string {
    return this.text[this.pos + offset] ?? '';
  }

  rest(): string {
    return this.text.slice(this.pos);
  }

  skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  /** Consumes `s` if it is next (after spaces). */
  accept(s: string): boolean {
    this.skipSpaces();
    if (this.text.startsWith(s, this.pos)) {
      this.pos += s.length;
      return true;
    }
    return false;
  }

  expect(s: string): void {
    if (!this.accept(s)) this.fail(`expected '${s}'`);
  }

  /**
   * Consumes a keyword (e.g. `eq`) only when it is a whole word: `eq` in `equals` is not one.
   * `ignoreCase`: the ABNF's quoted strings are case-insensitive (RFC 5234 §2.3), so `EQ` is `eq`.
   */
  acceptWord(word: string, { spaceBefore = true, ignoreCase = false } = {}): boolean {
    const start = this.pos;
    if (spaceBefore && !(this.peek() === ' ' || this.peek() === '\t')) return false;
    this.skipSpaces();
    const next = this.text.slice(this.pos, this.pos + word.length);
    if ((ignoreCase ? next.toLowerCase() === word : next === word) && !IDENT_PART.test(this.text[this.pos + word.length] ?? '')) {
      this.pos += word.length;
      return true;
    }
    this.pos = start;
    return false;
  }

  isIdentifierStart(): boolean {
    return IDENT_START.test(this.peek());
  }

  identifier(): string {
    this.skipSpaces();
    const start = this.pos;
    if (!IDENT_START.test(this.peek())) this.fail('expected an identifier');
    this.pos++;
    while (IDENT_PART.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** A namespace-qualified name like `Crm.ContactType` (dots allowed). */
  qualifiedName(): string {
    let name = this.identifier();
    while (this.peek() === '.' && IDENT_START.test(this.peek(1))) {
      this.pos++;
      name += '.' + this.identifier();
    }
    return name;
  }

  /** Tries to read a primitive literal at the current position; undefined (and no movement) if none. */
  literal(): { literal: Literal; position: number } | undefined {
    this.skipSpaces();
    const start = this.pos;
    const rest = this.rest();
    const lit = (literal: Literal, length: number) => {
      this.pos += length;
      return { literal, position: start };
    };
    if (rest.startsWith("'")) return lit({ type: 'Edm.String', value: this.quoted() }, 0);
    const word = /^[A-Za-z][A-Za-z0-9_]*/.exec(rest)?.[0] ?? '';
    const after = rest[word.length] ?? '';
    if (!IDENT_PART.test(after) && after !== "'" && after !== '.' && after !== '(' && after !== '/') {
      if (word === 'null') return lit({ type: 'null' }, 4);
      if (word === 'true' || word === 'false') return lit({ type: 'Edm.Boolean', value: word === 'true' }, word.length);
    }
    const guid = GUID.exec(rest);
    if (guid) return lit({ type: 'Edm.Guid', value: guid[0].toLowerCase() }, guid[0].length);
    const dt = DATE_TIME.exec(rest);
    if (dt) return lit({ type: 'Edm.DateTimeOffset', value: parseDateTimeOffset(dt[0]) ?? this.fail(`invalid date-time '${dt[0]}'`) }, dt[0].length);
    const date = DATE.exec(rest);
    if (date) return lit({ type: 'Edm.Date', value: parseDate(date[0]) ?? this.fail(`invalid date '${date[0]}'`) }, date[0].length);
    const time = TIME.exec(rest);
    if (time) return lit({ type: 'Edm.TimeOfDay', value: parseTimeOfDay(time[0]) ?? this.fail(`invalid time '${time[0]}'`) }, time[0].length);
    const special = SPECIAL_FLOAT.exec(rest);
    if (special) return lit({ type: 'Edm.Double', value: special[1] }, special[0].length);
    const num = NUMBER.exec(rest);
    if (num) return lit(numberLiteral(num), num[0].length);
    if (/^duration'/i.test(rest)) {
      this.pos += 'duration'.length;
      const text = this.quoted();
      const ms = parseDuration(text);
      if (ms === undefined) this.fail(`invalid duration '${text}'`, start);
      return { literal: { type: 'Edm.Duration', value: text, milliseconds: ms }, position: start };
    }
    const typed = /^(binary|geography|geometry|X)'/i.exec(rest);
    if (typed) this.fail(`${typed[1]} literals are not supported`, start);
    // Enum literal: Qualified.Type'Member' (members may be comma-separated flags)
    const qn = /^([A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+)'/.exec(rest);
    if (qn) {
      this.pos += qn[1].length;
      const members = this.quoted().split(',').map((m) => m.trim());
      return { literal: { type: 'enum', typeName: qn[1], members }, position: start };
    }
    return undefined;
  }

  /** A single-quoted string with '' as the escaped quote. */
  quoted(): string {
    const start = this.pos;
    if (this.peek() !== "'") this.fail("expected '");
    this.pos++;
    let out = '';
    for (;;) {
      if (this.done) this.fail('unterminated string literal', start);
      const c = this.text[this.pos++];
      // PostgreSQL cannot hold U+0000 in text; both engines refuse it alike, here.
      if (c === '\u0000') this.fail('U+0000 (NUL) is not allowed in a string literal', this.pos - 1);
      if (c === "'") {
        if (this.peek() === "'") {
          out += "'";
          this.pos++;
          continue;
        }
        return out;
      }
      out += c;
    }
  }
}

function numberLiteral(m: RegExpExecArray): Literal {
  const [text, , fraction, exponent, suffix] = m;
  const body = suffix ? text.slice(0, -1) : text;
  const s = suffix?.toLowerCase();
  if (s === 'm') return { type: 'Edm.Decimal', value: body };
  if (s === 'd' || s === 'f' || exponent) return { type: 'Edm.Double', value: body };
  if (s === 'l') return { type: 'Edm.Int64', value: body };
  if (fraction) return { type: 'Edm.Decimal', value: body };
  const n = BigInt(body);
  if (n > INT32_MAX || n < -INT32_MAX - 1n) return { type: 'Edm.Int64', value: body };
  return { type: 'Edm.Int32', value: body };
}
