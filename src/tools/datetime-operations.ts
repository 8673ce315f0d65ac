/**
 * The parsing and arithmetic behind the `datetime` tool: a strict ISO 8601 reader, and the
 * `format`, `add` and `diff` operations on instants (milliseconds since the epoch).
 */
import { ParleyError } from '../errors.js';
import {
  describeInstant,
  normaliseWallClock,
  utcFromWallClock,
  wallClock,
  wallClockToInstant,
  type WallClock,
} from './time-zone.js';

/** The units the `add` operation accepts. */
export const UNITS = ['seconds', 'minutes', 'hours', 'days', 'weeks', 'months', 'years'] as const;
type Unit = (typeof UNITS)[number];

/** Units that move the calendar (whole numbers only) rather than add an exact duration. */
export const CALENDAR_UNITS: ReadonlySet<Unit> = new Set(['days', 'weeks', 'months', 'years']);

const UNIT_MILLISECONDS: Record<'seconds' | 'minutes' | 'hours' | 'days' | 'weeks', number> = {
  seconds: 1_000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 604_800_000,
};

const TIME_OF_DAY = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;

const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Reads `YYYY-MM-DD`, optionally followed by `THH:mm[:ss[.fff]]` and an offset (`Z`, `+HH`,
 * `+HH:MM`, `+HHMM`), or a time of day alone (`14:30`, read on 2000-01-01). Returns the wall clock
 * and the offset in milliseconds (`undefined` when the string has none), or a message saying what
 * is wrong.
 */
export function parseIsoDateTime(
  value: string,
): { wall: WallClock; offset: number | undefined } | string {
  const time = TIME_OF_DAY.exec(value.trim());
  if (time !== null) {
    // A time alone stands for today; the caller puts today's date in (see resolveInstant).
    const [, hour, minute, second] = time;
    return parseIsoDateTime(
      `2000-01-01T${hour?.padStart(2, '0') ?? '00'}:${minute ?? '00'}:${second ?? '00'}`,
    );
  }
  const match = ISO_PATTERN.exec(value.trim());
  if (match === null) {
    return `expected an ISO 8601 date-time such as 2024-07-01T14:30:00Z or 2024-07-01 14:30, or a time such as 14:30, got "${value}"`;
  }
  const [, year, month, day, hour, minute, second, fraction, offset] = match;
  const wall: WallClock = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour ?? 0),
    minute: Number(minute ?? 0),
    second: Number(second ?? 0),
    millisecond: Math.floor(Number(`0.${fraction ?? '0'}`) * 1000),
  };
  if (wall.year < 1) return `year ${wall.year} is out of range (0001-9999)`;
  if (wall.month < 1 || wall.month > 12) return `month ${wall.month} is out of range (01-12)`;
  const daysInMonth = new Date(Date.UTC(2000, wall.month, 0)).getUTCDate();
  const lastDay = wall.month === 2 && !isLeapYear(wall.year) ? 28 : daysInMonth;
  if (wall.day < 1 || wall.day > lastDay) {
    return `day ${wall.day} is out of range for ${year}-${month} (01-${lastDay})`;
  }
  if (wall.hour > 23 || wall.minute > 59 || wall.second > 59) {
    return `time ${hour}:${minute}:${second ?? '00'} is out of range (00:00:00-23:59:59)`;
  }
  if (offset === undefined) return { wall, offset: undefined };
  if (offset.toUpperCase() === 'Z') return { wall, offset: 0 };
  const digits = offset.slice(1).replace(':', '');
  const offsetHours = Number(digits.slice(0, 2));
  const offsetMinutes = Number(digits.slice(2) || '0');
  if (offsetHours > 23 || offsetMinutes > 59) return `offset ${offset} is out of range`;
  const sign = offset.startsWith('-') ? -1 : 1;
  return { wall, offset: sign * (offsetHours * 3_600_000 + offsetMinutes * 60_000) };
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * The instant an ISO string denotes; a string without an offset is a wall clock in `zone`, and a
 * time alone is that time on the date `now` has in `zone`.
 *
 * @throws {ParleyError} `tool_failed` when the string is not a valid ISO 8601 date-time.
 */
export function resolveInstant(value: string, zone: string, now: number): number {
  const parsed = parseIsoDateTime(value);
  // The schema already rejected malformed strings; this only guards direct calls of `execute`.
  if (typeof parsed === 'string') throw new ParleyError('tool_failed', parsed);
  const wall = TIME_OF_DAY.test(value.trim())
    ? { ...parsed.wall, ...pick(wallClock(now, zone), ['year', 'month', 'day']) }
    : parsed.wall;
  if (parsed.offset === undefined) return wallClockToInstant(wall, zone);
  return utcFromWallClock(wall) - parsed.offset;
}

function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, value[key]])) as Pick<T, K>;
}

/** The `format` operation: the instant in `zone`, plus its long localised text in `locale`. */
export function formatInstant(at: number, zone: string, locale: string) {
  const formatter = new Intl.DateTimeFormat(locale, {
    dateStyle: 'full',
    timeStyle: 'long',
    timeZone: zone,
  });
  return {
    ...describeInstant(at, zone),
    formatted: formatter.format(at),
    locale: formatter.resolvedOptions().locale,
  };
}

/**
 * The `add` operation: `amount` × `unit` after `start`. Days, weeks, months and years follow the
 * wall clock in `zone` (a month after 31 January is the last day of February); shorter units are
 * exact durations.
 */
export function addDuration(
  start: number,
  zone: string,
  duration: { amount?: number | undefined; unit?: Unit | undefined },
) {
  const { amount = 0, unit = 'seconds' } = duration;
  let end: number;
  if (unit === 'months' || unit === 'years') {
    const wall = wallClock(start, zone);
    const months = wall.month - 1 + (unit === 'years' ? amount * 12 : amount);
    const year = wall.year + Math.floor(months / 12);
    const month = (((months % 12) + 12) % 12) + 1;
    const lastDay = new Date(
      utcFromWallClock({ ...wall, year, month: month + 1, day: 0 }),
    ).getUTCDate();
    end = wallClockToInstant({ ...wall, year, month, day: Math.min(wall.day, lastDay) }, zone);
  } else if (unit === 'days' || unit === 'weeks') {
    // Calendar arithmetic: "tomorrow at the same time" keeps the wall clock across a DST change,
    // where adding 24 hours would land an hour off.
    const wall = wallClock(start, zone);
    const days = unit === 'weeks' ? amount * 7 : amount;
    end = wallClockToInstant(normaliseWallClock({ ...wall, day: wall.day + days }), zone);
  } else {
    end = start + amount * UNIT_MILLISECONDS[unit];
  }
  return { start: describeInstant(start, zone), result: describeInstant(end, zone), amount, unit };
}

/** The `diff` operation: the time from `from` to `to`, in seconds and in words. */
export function diffInstants(from: number, to: number) {
  const milliseconds = to - from;
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    seconds: milliseconds / 1000,
    human: humanDuration(Math.abs(milliseconds)),
    relation: milliseconds > 0 ? 'after' : milliseconds < 0 ? 'before' : 'equal',
  };
}

/** `93_784_000` → `1 day, 2 hours, 3 minutes and 4 seconds`. */
function humanDuration(milliseconds: number): string {
  const days = Math.floor(milliseconds / UNIT_MILLISECONDS.days);
  const hours = Math.floor((milliseconds % UNIT_MILLISECONDS.days) / UNIT_MILLISECONDS.hours);
  const minutes = Math.floor((milliseconds % UNIT_MILLISECONDS.hours) / UNIT_MILLISECONDS.minutes);
  const seconds = (milliseconds % UNIT_MILLISECONDS.minutes) / 1000;
  const parts = [
    [days, 'day'],
    [hours, 'hour'],
    [minutes, 'minute'],
    [seconds, 'second'],
  ] as const;
  const words = parts
    .filter(([count]) => count > 0)
    .map(([count, word]) => `${count} ${word}${count === 1 ? '' : 's'}`);
  if (words.length === 0) return '0 seconds';
  const last = words.pop() ?? '';
  return words.length === 0 ? last : `${words.join(', ')} and ${last}`;
}
