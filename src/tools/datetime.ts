/**
 * The `datetime` tool: the current time in any IANA zone, conversions between zones, formatting,
 * parsing, adding durations and measuring the time between two instants.
 *
 * Zone arithmetic uses only `Intl.DateTimeFormat` (no time-zone database of our own), and the
 * current time comes from the injected `context.now()`, so results are deterministic for a given
 * input and clock. The file is longer than most because the zone helpers, the strict ISO 8601
 * parser and the six operations only make sense together.
 */
import { z } from 'zod';
import { ParleyError } from '../errors.js';
import { defineTool } from './tool.js';

const OPERATIONS = ['now', 'convert', 'format', 'parse', 'add', 'diff'] as const;
const UNITS = ['seconds', 'minutes', 'hours', 'days', 'weeks'] as const;
type Unit = (typeof UNITS)[number];

const UNIT_MILLISECONDS: Record<Unit, number> = {
  seconds: 1_000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 604_800_000,
};

/** The wall-clock reading of an instant in some zone. */
interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/** An instant as seen in one zone. */
export interface ZonedMoment {
  /** ISO 8601 with the zone's offset, e.g. `2024-07-01T14:30:00+02:00` (`Z` for offset zero). */
  iso: string;
  /** The IANA name as given, in its canonical case, e.g. `Europe/Paris`. */
  timezone: string;
  /** Wall clock as `YYYY-MM-DD HH:mm:ss`. */
  local: string;
  /** English weekday name, e.g. `Monday`. */
  weekday: string;
  /** Offset from UTC as `+HH:MM`. */
  utc_offset: string;
}

// ---------------------------------------------------------------- parameters

const timeZoneSchema = z
  .string()
  .max(64)
  .refine(isValidTimeZone, {
    error: (issue) =>
      `Unknown time zone "${String(issue.input)}"; use an IANA name such as "Europe/Paris" or "UTC"`,
  });

const isoSchema = z
  .string()
  .max(64)
  .superRefine((value, context) => {
    const parsed = parseIsoDateTime(value);
    if (typeof parsed === 'string') context.addIssue({ code: 'custom', message: parsed });
  });

const REQUIRED_FIELDS = {
  now: [],
  convert: ['to_timezone'],
  format: [],
  parse: ['datetime'],
  add: ['amount', 'unit'],
  diff: ['datetime', 'other'],
} as const satisfies Record<(typeof OPERATIONS)[number], readonly string[]>;

const datetimeParameters = z
  .object({
    operation: z
      .enum(OPERATIONS)
      .describe(
        'now: current time; convert: a time from one zone to another; format: localised text; parse: read an ISO date-time; add: add amount × unit; diff: time from datetime to other.',
      ),
    timezone: timeZoneSchema
      .optional()
      .describe('IANA zone for the result, and for a datetime without an offset. Default UTC.'),
    from_timezone: timeZoneSchema
      .optional()
      .describe('convert: the zone of a datetime without an offset. Default: timezone, then UTC.'),
    to_timezone: timeZoneSchema.optional().describe('convert: the target zone.'),
    datetime: isoSchema
      .optional()
      .describe(
        'ISO 8601, e.g. 2024-07-01T14:30:00Z or 2024-07-01 14:30 (wall clock). Default now.',
      ),
    other: isoSchema.optional().describe('diff: the second date-time.'),
    amount: z.number().optional().describe('add: how many units; negative goes back in time.'),
    unit: z.enum(UNITS).optional().describe('add: the unit of amount.'),
    locale: z
      .string()
      .max(35)
      .refine(isValidLocale, 'expected a BCP 47 locale such as en-US or fr-FR')
      .optional()
      .describe('format: BCP 47 locale. Default en-US.'),
  })
  .superRefine((parameters, context) => {
    for (const field of REQUIRED_FIELDS[parameters.operation]) {
      if (parameters[field] !== undefined) continue;
      context.addIssue({
        code: 'custom',
        path: [field],
        message: `"${field}" is required when operation is "${parameters.operation}"`,
      });
    }
    const { amount, unit } = parameters;
    if (
      amount !== undefined &&
      (unit === 'days' || unit === 'weeks') &&
      !Number.isInteger(amount)
    ) {
      context.addIssue({
        code: 'custom',
        path: ['amount'],
        message: `expected a whole number of ${unit}; use hours or minutes for fractions`,
      });
    }
  });

type DatetimeParameters = z.infer<typeof datetimeParameters>;

// ---------------------------------------------------------------- the tool

/**
 * Dates, times and time zones for the agent. Every operation that shows an instant returns it as
 * a {@link ZonedMoment}; `now` reads the injected clock (`context.now()`), never the system one.
 *
 * @example
 * await registry.execute('datetime', { operation: 'now', timezone: 'Asia/Tokyo' }, context);
 * // { iso: '2024-07-01T21:30:00+09:00', timezone: 'Asia/Tokyo', local: '2024-07-01 21:30:00',
 * //   weekday: 'Monday', utc_offset: '+09:00' }
 */
export const datetimeTool = defineTool({
  name: 'datetime',
  description:
    'Current date and time in any IANA time zone, converting times between zones, formatting, parsing ISO 8601, adding durations and the time between two date-times.',
  parameters: datetimeParameters,
  execute(parameters, context) {
    const zone = canonicalZone(parameters.timezone ?? 'UTC');
    const instant = (value: string | undefined, inZone: string): number =>
      value === undefined ? context.now() : resolveInstant(value, inZone);
    switch (parameters.operation) {
      case 'now':
        return describeInstant(context.now(), zone);
      case 'convert': {
        const fromZone = canonicalZone(parameters.from_timezone ?? parameters.timezone ?? 'UTC');
        const at = instant(parameters.datetime, fromZone);
        const toZone = canonicalZone(parameters.to_timezone ?? 'UTC');
        return { from: describeInstant(at, fromZone), to: describeInstant(at, toZone) };
      }
      case 'format':
        return format(instant(parameters.datetime, zone), zone, parameters.locale ?? 'en-US');
      case 'parse': {
        const at = instant(parameters.datetime, zone);
        return { ...describeInstant(at, zone), utc: new Date(at).toISOString(), epoch_ms: at };
      }
      case 'add':
        return add(instant(parameters.datetime, zone), zone, parameters);
      case 'diff': {
        const from = instant(parameters.datetime, zone);
        const to = instant(parameters.other, zone);
        return diff(from, to);
      }
    }
  },
});

function format(at: number, zone: string, locale: string) {
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

function add(start: number, zone: string, parameters: DatetimeParameters) {
  const { amount = 0, unit = 'seconds' } = parameters;
  let end: number;
  if (unit === 'days' || unit === 'weeks') {
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

function diff(from: number, to: number) {
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

// ---------------------------------------------------------------- ISO 8601

const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Reads `YYYY-MM-DD`, optionally followed by `THH:mm[:ss[.fff]]` and an offset (`Z`, `+HH`,
 * `+HH:MM`, `+HHMM`). Returns the wall clock and the offset in milliseconds (`undefined` when the
 * string has none), or a message saying what is wrong.
 */
function parseIsoDateTime(value: string): { wall: WallClock; offset: number | undefined } | string {
  const match = ISO_PATTERN.exec(value.trim());
  if (match === null) {
    return `expected an ISO 8601 date-time such as 2024-07-01T14:30:00Z or 2024-07-01 14:30, got "${value}"`;
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

/** The instant an ISO string denotes; a string without an offset is a wall clock in `zone`. */
function resolveInstant(value: string, zone: string): number {
  const parsed = parseIsoDateTime(value);
  // The schema already rejected malformed strings; this only guards direct calls of `execute`.
  if (typeof parsed === 'string') throw new ParleyError('tool_failed', parsed);
  if (parsed.offset === undefined) return wallClockToInstant(parsed.wall, zone);
  return utcFromWallClock(parsed.wall) - parsed.offset;
}

// ---------------------------------------------------------------- zones

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function isValidLocale(locale: string): boolean {
  try {
    return Intl.getCanonicalLocales(locale).length === 1;
  } catch {
    return false;
  }
}

/** Fixes the case of a zone name (`asia/tokyo` → `Asia/Tokyo`) and keeps its spelling otherwise. */
function canonicalZone(zone: string): string {
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions()
      .timeZone;
    // ICU resolves links to its own, sometimes outdated, names (Asia/Kolkata → Asia/Calcutta),
    // so the resolved name is only used when it is the caller's name in another case.
    return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone;
  } catch (cause) {
    throw new ParleyError('tool_failed', `Unknown time zone "${zone}"`, { cause });
  }
}

function zoneFormatter(zone: string): Intl.DateTimeFormat {
  // Keyed in lower case, so the cache is bounded by the number of zone names, not their spellings.
  const key = zone.toLowerCase();
  let formatter = zoneFormatters.get(key);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'long',
    });
    zoneFormatters.set(key, formatter);
  }
  return formatter;
}

function wallClockAndWeekday(at: number, zone: string): { wall: WallClock; weekday: string } {
  const year = new Date(at).getUTCFullYear();
  // Outside 0001-9999 the ISO strings need expanded years and `Intl` starts printing eras.
  if (!(year >= 1 && year <= 9999)) {
    throw new ParleyError(
      'tool_failed',
      'The date is outside the supported range (years 0001-9999)',
    );
  }
  const parts = zoneFormatter(zone).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes): string =>
    parts.find((candidate) => candidate.type === type)?.value ?? '';
  const wall: WallClock = {
    year: Number(part('year')),
    month: Number(part('month')),
    day: Number(part('day')),
    hour: Number(part('hour')),
    minute: Number(part('minute')),
    second: Number(part('second')),
    millisecond: ((at % 1000) + 1000) % 1000,
  };
  return { wall, weekday: part('weekday') };
}

function wallClock(at: number, zone: string): WallClock {
  return wallClockAndWeekday(at, zone).wall;
}

/** The zone's offset from UTC at an instant, in milliseconds. */
function offsetAt(at: number, zone: string): number {
  return utcFromWallClock(wallClock(at, zone)) - at;
}

/**
 * The instant a wall clock denotes in a zone. Like Temporal's `compatible` disambiguation, a time
 * repeated when clocks go back is the earlier instant, and a time skipped when clocks go forward
 * moves forward by the length of the gap.
 */
function wallClockToInstant(wall: WallClock, zone: string): number {
  const asUtc = utcFromWallClock(wall);
  // A day either side brackets any single transition near this wall clock.
  const offsetBefore = offsetAt(asUtc - UNIT_MILLISECONDS.days, zone);
  const offsetAfter = offsetAt(asUtc + UNIT_MILLISECONDS.days, zone);
  const candidates = [asUtc - offsetBefore, asUtc - offsetAfter].filter(
    (candidate) => offsetAt(candidate, zone) === asUtc - candidate,
  );
  return candidates.length > 0 ? Math.min(...candidates) : asUtc - offsetBefore;
}

// `Date.UTC` maps years 0-99 to 1900-1999, so the year is set separately.
function utcFromWallClock(wall: WallClock): number {
  const date = new Date(0);
  date.setUTCFullYear(wall.year, wall.month - 1, wall.day);
  date.setUTCHours(wall.hour, wall.minute, wall.second, wall.millisecond);
  return date.getTime();
}

function normaliseWallClock(wall: WallClock): WallClock {
  const date = new Date(utcFromWallClock(wall));
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
    millisecond: date.getUTCMilliseconds(),
  };
}

function describeInstant(at: number, zone: string): ZonedMoment {
  const { wall, weekday } = wallClockAndWeekday(at, zone);
  const offset = utcFromWallClock(wall) - at;
  const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
  const date = `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}`;
  const time = `${pad(wall.hour)}:${pad(wall.minute)}:${pad(wall.second)}`;
  const fraction = wall.millisecond === 0 ? '' : `.${pad(wall.millisecond, 3)}`;
  const offsetMinutes = Math.round(Math.abs(offset) / 60_000);
  const utcOffset = `${offset < 0 ? '-' : '+'}${pad(Math.floor(offsetMinutes / 60))}:${pad(offsetMinutes % 60)}`;
  return {
    iso: `${date}T${time}${fraction}${offset === 0 ? 'Z' : utcOffset}`,
    timezone: zone,
    local: `${date} ${time}`,
    weekday,
    utc_offset: utcOffset,
  };
}
