/**
 * Date, time and duration literal parsing. Values are taken as written and converted to UTC
 * arithmetically: the server's local time zone is never involved.
 */

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[m - 1];
}

/** `YYYY-MM-DD` → same text when valid */
export function parseDate(text: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  return validDate(+m[1], +m[2], +m[3]) ? text : undefined;
}

/** `HH:MM[:SS[.fff]]` → `HH:MM:SS.fff` */
export function parseTimeOfDay(text: string): string | undefined {
  const m = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?$/.exec(text);
  if (!m) return undefined;
  const [h, min, s] = [+m[1], +m[2], +(m[3] ?? 0)];
  if (h > 23 || min > 59 || s > 59) return undefined;
  return `${pad(h)}:${pad(min)}:${pad(s)}.${(m[4] ?? '').padEnd(3, '0').slice(0, 3)}`;
}

/** An ISO 8601 date-time with offset → UTC `YYYY-MM-DDTHH:MM:SS.sssZ`, or undefined if invalid. */
export function parseDateTimeOffset(text: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?(Z|([+-])(\d{2}):(\d{2}))$/i.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [+m[1], +m[2], +m[3], +m[4], +m[5], +(m[6] ?? 0)];
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  let offsetMinutes = 0;
  if (m[8].toUpperCase() !== 'Z') {
    const oh = +m[10];
    const om = +m[11];
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d); // unlike Date.UTC, keeps years 0–99 as written
  date.setUTCHours(h, mi - offsetMinutes, s, ms);
  return formatUtc(date);
}

export function formatUtc(date: Date): string {
  const y = date.getUTCFullYear();
  // the engine's own formatting is the same text for four-digit years (and is native)
  if (y >= 0 && y <= 9999) return date.toISOString();
  return `${y < 0 ? '-' : ''}${pad(Math.abs(y), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(date.getUTCMilliseconds(), 3)}Z`;
}

/** `[-]PnDTnHnMn.nS` → milliseconds */
export function parseDuration(text: string): number | undefined {
  const m = /^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!m || text.endsWith('T') || text === 'P' || text === '-P') return undefined;
  const ms = ((+(m[2] ?? 0) * 24 + +(m[3] ?? 0)) * 60 + +(m[4] ?? 0)) * 60_000 + Math.round(+(m[5] ?? 0) * 1000);
  return m[1] ? -ms : ms;
}
