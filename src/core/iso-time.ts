const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00.000Z: from here on `toISOString` writes a six-digit, signed year. */
const YEAR_10000_MS = 253_402_300_800_000;

const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

/** The day whose `YYYY-MM-DDT` is remembered: answers name times of today over and over. */
let knownDay = Number.NaN;
let knownDayText = '';

/**
 * A time in milliseconds since the epoch as `Date.prototype.toISOString` writes it
 * (`2026-12-04T06:30:00.000Z`), several times faster for times of one day: the date is worked
 * out once a day and the time of day from plain arithmetic. Times outside the years 1970–9999,
 * and fractional ones, are left to `Date`.
 *
 * @example isoTime(0) // '1970-01-01T00:00:00.000Z'
 */
export function isoTime(ms: number): string {
  if (!(ms >= 0 && ms < YEAR_10000_MS) || !Number.isInteger(ms)) return new Date(ms).toISOString();

  let rest = ms % DAY_MS;
  const day = ms - rest;
  if (day !== knownDay) {
    knownDay = day;
    knownDayText = new Date(day).toISOString().slice(0, 11);
  }

  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  const clock = `${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}`;
  return `${knownDayText}${clock}.${THREE_DIGITS[millis]}Z`;
}
