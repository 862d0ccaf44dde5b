/**
 * Exact Edm.Decimal values: an integer of units and a scale (value = units / 10^scale), computed with
 * BigInt, never through binary floating point. Values travel as canonical text: no exponent, no
 * leading zeros, no trailing fractional zeros, `-` only for values below zero ("1234.5", "0", "-0.25").
 * Equal values have equal text, so text equality is value equality.
 */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

/** Fractional digits kept by a decimal `div`/`divby` (URL Conventions §5.1.1.2.5: the scale is service-specific); the quotient is truncated. */
export const DIVISION_SCALE = 20;

const CANONICAL = /^-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/;
/** The message of every zero-divisor failure, in JS and in SQLite's functions (sql/execute.ts turns it into a 400). */
export const DIVISION_BY_ZERO = 'division by zero';

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const TEN = 10n;

function pow10(n: number): bigint {
  return TEN ** BigInt(n);
}

/** Decimal text (optionally with an exponent) → a Decimal; undefined when it is not one. */
export function parseDecimal(text: string): Decimal | undefined {
  const m = DECIMAL_TEXT.exec(text);
  if (!m) return undefined;
  const [, sign, whole, fraction = '', exponent] = m;
  if (whole === '' && fraction === '') return undefined;
  const digits = BigInt((whole || '0') + fraction);
  let scale = fraction.length - (exponent ? Number(exponent) : 0);
  if (!Number.isSafeInteger(scale) || Math.abs(scale) > 10_000) return undefined;
  let units = sign === '-' ? -digits : digits;
  if (scale < 0) {
    units *= pow10(-scale);
    scale = 0;
  }
  return { units, scale };
}

/** A database or JSON value (decimal text, a JS number, a bigint) as a Decimal; null for null. */
export function decimalOf(value: unknown): Decimal | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return { units: value, scale: 0 };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`${value} is not a decimal value`);
    // The shortest text that reads back as this double: what the client wrote, for every JSON number.
    return parseDecimal(String(value)) as Decimal;
  }
  if (typeof value === 'boolean') return { units: value ? 1n : 0n, scale: 0 };
  const parsed = parseDecimal(String(value).trim());
  if (!parsed) throw new RangeError(`'${String(value)}' is not a decimal value`);
  return parsed;
}

export function formatDecimal(d: Decimal): string {
  let { units, scale } = d;
  while (scale > 0 && units % TEN === 0n) {
    units /= TEN;
    scale--;
  }
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString();
  if (scale === 0) return (negative ? '-' : '') + digits;
  const padded = digits.padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

/** Canonical text of any decimal-like value; null for null. */
export function canonicalDecimal(value: unknown): string | null {
  // Fast paths (seeding, every row a function reads): a double's shortest text without an exponent,
  // and text already canonical, are their own canonical form.
  if (typeof value === 'number' && Number.isFinite(value)) {
    const text = String(value);
    if (!text.includes('e')) return text;
  } else if (typeof value === 'string' && value !== '-0' && CANONICAL.test(value)) return value;
  const d = decimalOf(value);
  return d === null ? null : formatDecimal(d);
}

function aligned(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * pow10(scale - a.scale), b.units * pow10(scale - b.scale), scale];
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = aligned(a, b);
  return { units: x + y, scale };
}

export function subtractDecimal(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = aligned(a, b);
  return { units: x - y, scale };
}

export function multiplyDecimal(a: Decimal, b: Decimal): Decimal {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

/** a / b truncated toward zero to `scale` fractional digits; throws on a zero divisor (the request fails). */
export function divideDecimal(a: Decimal, b: Decimal, scale = DIVISION_SCALE): Decimal {
  if (b.units === 0n) throw new RangeError(DIVISION_BY_ZERO);
  // a.units/10^as ÷ b.units/10^bs × 10^scale = a.units × 10^(scale + bs − as) ÷ b.units
  const shift = scale + b.scale - a.scale;
  const numerator = shift >= 0 ? a.units * pow10(shift) : a.units;
  const denominator = shift >= 0 ? b.units : b.units * pow10(-shift);
  return { units: numerator / denominator, scale };
}

/** The remainder of a truncating division: the sign of the left operand (URL Conventions §5.1.1.2.6). */
export function modDecimal(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = aligned(a, b);
  if (y === 0n) throw new RangeError(DIVISION_BY_ZERO);
  return { units: x % y, scale };
}

export function negateDecimal(a: Decimal): Decimal {
  return { units: -a.units, scale: a.scale };
}

export function compareDecimal(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const [x, y] = aligned(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export type Rounding = 'half-away-from-zero' | 'floor' | 'ceiling';

/** Rounds to `scale` fractional digits (`round` takes mid-points away from zero, §5.1.1.9.3). */
export function roundDecimal(a: Decimal, scale: number, mode: Rounding): Decimal {
  if (a.scale <= scale) return a;
  const divisor = pow10(a.scale - scale);
  const truncated = a.units / divisor;
  const remainder = a.units % divisor;
  if (remainder === 0n) return { units: truncated, scale };
  switch (mode) {
    case 'floor': return { units: remainder < 0n ? truncated - 1n : truncated, scale };
    case 'ceiling': return { units: remainder > 0n ? truncated + 1n : truncated, scale };
    case 'half-away-from-zero': {
      const twice = (remainder < 0n ? -remainder : remainder) * 2n;
      if (twice < divisor) return { units: truncated, scale };
      return { units: remainder < 0n ? truncated - 1n : truncated + 1n, scale };
    }
  }
}

/** Digits before the decimal point (0 for |a| < 1), for precision checks. */
export function integerDigits(a: Decimal): number {
  const whole = (a.units < 0n ? -a.units : a.units) / pow10(a.scale);
  return whole === 0n ? 0 : whole.toString().length;
}

/**
 * Text whose byte order is the numeric order of the values, for engines that compare decimals as
 * text: a class digit (negative, zero, positive), the length of the integer part, then the digits;
 * for negatives everything is complemented and a terminator placed after the digits, so that of two
 * negatives with a common prefix the one with more digits (larger magnitude) sorts first.
 */
export function decimalSortKey(value: unknown): string | null {
  const text = canonicalDecimal(value);
  if (text === null) return null;
  if (text === '0' || text === '-0') return '1';
  const negative = text.startsWith('-');
  const magnitude = negative ? text.slice(1) : text;
  const point = magnitude.indexOf('.');
  const whole = point < 0 ? magnitude : magnitude.slice(0, point);
  const fraction = point < 0 ? '' : magnitude.slice(point + 1);
  const wholeDigits = whole === '0' ? '' : whole;
  const digits = wholeDigits + fraction;
  const length = String(wholeDigits.length).padStart(5, '0');
  if (!negative) return `2${length}${digits}`;
  const complement = (s: string) => s.replace(/\d/g, (d) => String(9 - Number(d)));
  return `0${complement(length)}${complement(digits)}~`;
}
