import { describe, expect, it } from 'vitest';
import { ParleyError } from '../errors.js';
import {
  canonicalZone,
  describeInstant,
  isValidTimeZone,
  normaliseWallClock,
  utcFromWallClock,
  wallClock,
  wallClockToInstant,
  type WallClock,
} from './time-zone.js';

function wall(year: number, month: number, day: number, hour = 0, minute = 0): WallClock {
  return { year, month, day, hour, minute, second: 0, millisecond: 0 };
}

describe('isValidTimeZone', () => {
  it('accepts IANA names in any case and rejects unknown ones', () => {
    expect(isValidTimeZone('Europe/Paris')).toBe(true);
    expect(isValidTimeZone('europe/paris')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});

describe('canonicalZone', () => {
  it('fixes the case of a zone name', () => {
    expect(canonicalZone('asia/tokyo')).toBe('Asia/Tokyo');
  });

  it('keeps a link name rather than the one ICU resolves it to', () => {
    expect(canonicalZone('Asia/Kolkata')).toBe('Asia/Kolkata');
  });

  it('throws tool_failed for an unknown zone', () => {
    expect(() => canonicalZone('Nowhere/Special')).toThrow(ParleyError);
  });
});

describe('wallClockToInstant', () => {
  it('moves a wall clock skipped by spring-forward ahead by the gap', () => {
    // Paris skips 02:00-03:00 on 31 March 2024; 02:30 becomes 03:30 CEST.
    expect(wallClockToInstant(wall(2024, 3, 31, 2, 30), 'Europe/Paris')).toBe(
      Date.UTC(2024, 2, 31, 1, 30),
    );
  });

  it('picks the earlier instant for a wall clock repeated by fall-back', () => {
    // Paris repeats 02:00-03:00 on 27 October 2024; 02:30 is first seen at 00:30Z (CEST).
    expect(wallClockToInstant(wall(2024, 10, 27, 2, 30), 'Europe/Paris')).toBe(
      Date.UTC(2024, 9, 27, 0, 30),
    );
  });

  it('round-trips with wallClock', () => {
    const at = Date.UTC(2024, 6, 1, 12, 30);
    expect(wallClockToInstant(wallClock(at, 'America/New_York'), 'America/New_York')).toBe(at);
  });
});

describe('utcFromWallClock', () => {
  it('keeps years 0-99 instead of mapping them to 1900-1999', () => {
    expect(new Date(utcFromWallClock(wall(50, 1, 1))).getUTCFullYear()).toBe(50);
  });
});

describe('normaliseWallClock', () => {
  it('carries an overflowing day into the next month', () => {
    expect(normaliseWallClock(wall(2024, 7, 32, 9))).toEqual(wall(2024, 8, 1, 9));
  });
});

describe('describeInstant', () => {
  it('describes an instant with a half-hour offset', () => {
    expect(describeInstant(Date.UTC(2024, 6, 1, 12, 0, 0, 250), 'Asia/Kolkata')).toEqual({
      iso: '2024-07-01T17:30:00.250+05:30',
      timezone: 'Asia/Kolkata',
      local: '2024-07-01 17:30:00',
      weekday: 'Monday',
      utc_offset: '+05:30',
    });
  });

  it('throws tool_failed outside the years 0001-9999', () => {
    expect(() => describeInstant(Date.UTC(10_000, 0, 1), 'UTC')).toThrow(
      'The date is outside the supported range (years 0001-9999)',
    );
  });
});
