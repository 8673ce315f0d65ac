/**
 * Time-zone helpers for the `datetime` tool: validating and normalising IANA zone names, reading
 * an instant's wall clock in a zone, turning a wall clock back into an instant, and describing an
 * instant as a {@link ZonedMoment}.
 *
 * Zone arithmetic uses only `Intl.DateTimeFormat` (no time-zone database of our own).
 */
import { ParleyError } from '../errors.js';

const DAY_MILLISECONDS = 86_400_000;

/** The wall-clock reading of an instant in some zone. */
export interface WallClock {
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

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

/** Whether `Intl` knows the zone name (IANA names in any case, `UTC`, fixed offsets). */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Fixes the case of a zone name (`asia/tokyo` → `Asia/Tokyo`) and keeps its spelling otherwise.
 *
 * @throws {ParleyError} `tool_failed` when the zone is unknown.
 */
export function canonicalZone(zone: string): string {
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

/**
 * The wall clock an instant shows in a zone.
 *
 * @throws {ParleyError} `tool_failed` when the instant is outside the years 0001-9999.
 */
export function wallClock(at: number, zone: string): WallClock {
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
export function wallClockToInstant(wall: WallClock, zone: string): number {
  const asUtc = utcFromWallClock(wall);
  // A day either side brackets any single transition near this wall clock.
  const offsetBefore = offsetAt(asUtc - DAY_MILLISECONDS, zone);
  const offsetAfter = offsetAt(asUtc + DAY_MILLISECONDS, zone);
  const candidates = [asUtc - offsetBefore, asUtc - offsetAfter].filter(
    (candidate) => offsetAt(candidate, zone) === asUtc - candidate,
  );
  return candidates.length > 0 ? Math.min(...candidates) : asUtc - offsetBefore;
}

/** The instant a wall clock denotes in UTC, for any year including 0-99. */
export function utcFromWallClock(wall: WallClock): number {
  // `Date.UTC` maps years 0-99 to 1900-1999, so the year is set separately.
  const date = new Date(0);
  date.setUTCFullYear(wall.year, wall.month - 1, wall.day);
  date.setUTCHours(wall.hour, wall.minute, wall.second, wall.millisecond);
  return date.getTime();
}

/** Carries overflowing fields into the next ones: 32 July becomes 1 August. */
export function normaliseWallClock(wall: WallClock): WallClock {
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

/**
 * An instant as seen in a zone: ISO string with offset, local wall clock, weekday and offset.
 *
 * @throws {ParleyError} `tool_failed` when the instant is outside the years 0001-9999.
 */
export function describeInstant(at: number, zone: string): ZonedMoment {
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
