import { describe, expect, it } from 'vitest';
import { datetimeTool } from './datetime.js';
import type { ToolExecutionContext } from './tool.js';

// Monday 1 July 2024, 12:30:00 UTC.
const NOW = Date.UTC(2024, 6, 1, 12, 30, 0);
const context: ToolExecutionContext = { signal: new AbortController().signal, now: () => NOW };

async function run(input: unknown): Promise<unknown> {
  return datetimeTool.execute(datetimeTool.parameters.parse(input), context);
}

function issuesOf(input: unknown): [string, string][] {
  const parsed = datetimeTool.parameters.safeParse(input);
  return (parsed.error?.issues ?? []).map((issue) => [issue.path.join('.'), issue.message]);
}

describe('datetimeTool', () => {
  it('reports now from the injected clock in UTC by default', async () => {
    await expect(run({ operation: 'now' })).resolves.toEqual({
      iso: '2024-07-01T12:30:00Z',
      timezone: 'UTC',
      local: '2024-07-01 12:30:00',
      weekday: 'Monday',
      utc_offset: '+00:00',
    });
  });

  it('reports now in a named zone, fixing the case of its name', async () => {
    await expect(run({ operation: 'now', timezone: 'asia/tokyo' })).resolves.toEqual({
      iso: '2024-07-01T21:30:00+09:00',
      timezone: 'Asia/Tokyo',
      local: '2024-07-01 21:30:00',
      weekday: 'Monday',
      utc_offset: '+09:00',
    });
  });

  it('keeps the caller spelling of a zone that ICU knows by an older name', async () => {
    const moment = (await run({ operation: 'now', timezone: 'Asia/Kathmandu' })) as {
      timezone: string;
      utc_offset: string;
    };
    expect(moment.timezone).toBe('Asia/Kathmandu');
    expect(moment.utc_offset).toBe('+05:45');
  });

  it('rejects an unknown zone, naming it', () => {
    expect(issuesOf({ operation: 'now', timezone: 'Mars/Olympus' })).toEqual([
      [
        'timezone',
        'Unknown time zone "Mars/Olympus"; use an IANA name such as "Europe/Paris" or "UTC"',
      ],
    ]);
  });

  it('converts a wall clock from one zone to another', async () => {
    await expect(
      run({
        operation: 'convert',
        datetime: '2024-01-15 09:00',
        from_timezone: 'America/New_York',
        to_timezone: 'Europe/Paris',
      }),
    ).resolves.toEqual({
      from: {
        iso: '2024-01-15T09:00:00-05:00',
        timezone: 'America/New_York',
        local: '2024-01-15 09:00:00',
        weekday: 'Monday',
        utc_offset: '-05:00',
      },
      to: {
        iso: '2024-01-15T15:00:00+01:00',
        timezone: 'Europe/Paris',
        local: '2024-01-15 15:00:00',
        weekday: 'Monday',
        utc_offset: '+01:00',
      },
    });
  });

  it('converts an ISO string with an offset, ignoring the source zone', async () => {
    const result = (await run({
      operation: 'convert',
      datetime: '2024-07-01T12:00:00+05:30',
      from_timezone: 'Asia/Tokyo',
      to_timezone: 'America/Los_Angeles',
    })) as { to: { iso: string; weekday: string } };
    expect(result.to.iso).toBe('2024-06-30T23:30:00-07:00');
    expect(result.to.weekday).toBe('Sunday');
  });

  it('moves a wall clock skipped by daylight saving forward by the gap', async () => {
    const result = (await run({
      operation: 'convert',
      datetime: '2024-03-10T02:30',
      from_timezone: 'America/New_York',
      to_timezone: 'UTC',
    })) as { from: { iso: string }; to: { iso: string } };
    expect(result.from.iso).toBe('2024-03-10T03:30:00-04:00');
    expect(result.to.iso).toBe('2024-03-10T07:30:00Z');
  });

  it('takes the earlier instant for a wall clock repeated when clocks go back', async () => {
    const result = (await run({
      operation: 'convert',
      datetime: '2024-11-03T01:30:00',
      from_timezone: 'America/New_York',
      to_timezone: 'UTC',
    })) as { to: { iso: string } };
    expect(result.to.iso).toBe('2024-11-03T05:30:00Z');
  });

  it('requires to_timezone for convert', () => {
    expect(issuesOf({ operation: 'convert', datetime: '2024-01-01' })).toEqual([
      ['to_timezone', '"to_timezone" is required when operation is "convert"'],
    ]);
  });

  it('formats an instant in a zone and locale', async () => {
    const result = (await run({
      operation: 'format',
      datetime: '2024-07-01T12:00:00Z',
      timezone: 'Europe/Paris',
      locale: 'en-GB',
    })) as { iso: string; formatted: string; locale: string };
    expect(result.iso).toBe('2024-07-01T14:00:00+02:00');
    expect(result.locale).toBe('en-GB');
    expect(result.formatted).toContain('Monday');
    expect(result.formatted).toContain('July 2024');
    expect(result.formatted).toContain('14:00:00');
  });

  it('formats now when no datetime is given', async () => {
    const result = (await run({ operation: 'format' })) as { iso: string; locale: string };
    expect(result.iso).toBe('2024-07-01T12:30:00Z');
    expect(result.locale).toBe('en-US');
  });

  it('rejects a malformed locale', () => {
    expect(issuesOf({ operation: 'format', locale: 'not a locale!' })).toEqual([
      ['locale', 'expected a BCP 47 locale such as en-US or fr-FR'],
    ]);
  });

  it('parses an ISO string with fraction and compact offset', async () => {
    await expect(
      run({ operation: 'parse', datetime: '2024-02-29T10:00:00.250-0330' }),
    ).resolves.toEqual({
      iso: '2024-02-29T13:30:00.250Z',
      timezone: 'UTC',
      local: '2024-02-29 13:30:00',
      weekday: 'Thursday',
      utc_offset: '+00:00',
      utc: '2024-02-29T13:30:00.250Z',
      epoch_ms: Date.UTC(2024, 1, 29, 13, 30, 0, 250),
    });
  });

  it('parses a date without a time as midnight in the given zone', async () => {
    const result = (await run({
      operation: 'parse',
      datetime: '2024-12-25',
      timezone: 'Australia/Sydney',
    })) as { iso: string; utc: string };
    expect(result.iso).toBe('2024-12-25T00:00:00+11:00');
    expect(result.utc).toBe('2024-12-24T13:00:00.000Z');
  });

  it('rejects impossible dates and strings that are not ISO 8601', () => {
    expect(issuesOf({ operation: 'parse', datetime: '2023-02-29' })).toEqual([
      ['datetime', 'day 29 is out of range for 2023-02 (01-28)'],
    ]);
    expect(issuesOf({ operation: 'parse', datetime: '2024-01-01T25:00' })).toEqual([
      ['datetime', 'time 25:00:00 is out of range (00:00:00-23:59:59)'],
    ]);
    expect(issuesOf({ operation: 'parse', datetime: 'next Tuesday' })).toEqual([
      [
        'datetime',
        'expected an ISO 8601 date-time such as 2024-07-01T14:30:00Z or 2024-07-01 14:30, or a time such as 14:30, got "next Tuesday"',
      ],
    ]);
  });

  it('adds exact durations for seconds, minutes and hours', async () => {
    const result = (await run({ operation: 'add', amount: 90, unit: 'minutes' })) as {
      start: { iso: string };
      result: { iso: string };
    };
    expect(result.start.iso).toBe('2024-07-01T12:30:00Z');
    expect(result.result.iso).toBe('2024-07-01T14:00:00Z');
  });

  it('adds calendar days, keeping the wall clock across a daylight saving change', async () => {
    const result = (await run({
      operation: 'add',
      datetime: '2024-03-09T12:00:00',
      timezone: 'America/New_York',
      amount: 1,
      unit: 'days',
    })) as { result: { iso: string } };
    expect(result.result.iso).toBe('2024-03-10T12:00:00-04:00');
  });

  it('goes back in time with a negative amount of weeks', async () => {
    const result = (await run({
      operation: 'add',
      datetime: '2024-03-01T00:00:00Z',
      amount: -2,
      unit: 'weeks',
    })) as { result: { iso: string; weekday: string } };
    expect(result.result.iso).toBe('2024-02-16T00:00:00Z');
    expect(result.result.weekday).toBe('Friday');
  });

  it('requires a whole number of days', () => {
    expect(issuesOf({ operation: 'add', amount: 1.5, unit: 'days' })).toEqual([
      ['amount', 'expected a whole number of days; use hours or minutes for fractions'],
    ]);
  });

  it('fails with tool_failed when a result leaves years 0001-9999', async () => {
    await expect(run({ operation: 'add', amount: 1e6, unit: 'weeks' })).rejects.toMatchObject({
      code: 'tool_failed',
      message: 'The date is outside the supported range (years 0001-9999)',
    });
  });

  it('measures the time between two instants in seconds and words', async () => {
    await expect(
      run({ operation: 'diff', datetime: '2024-01-01T00:00:00Z', other: '2024-01-02T02:03:04Z' }),
    ).resolves.toEqual({
      from: '2024-01-01T00:00:00.000Z',
      to: '2024-01-02T02:03:04.000Z',
      seconds: 93_784,
      human: '1 day, 2 hours, 3 minutes and 4 seconds',
      relation: 'after',
    });
  });

  it('reports a negative diff when other is earlier', async () => {
    const result = (await run({
      operation: 'diff',
      datetime: '2024-01-01T12:00:00+01:00',
      other: '2024-01-01T09:00:00Z',
    })) as { seconds: number; human: string; relation: string };
    expect(result).toMatchObject({ seconds: -7200, human: '2 hours', relation: 'before' });
  });

  it('requires other for diff and measures from now without a datetime', async () => {
    expect(issuesOf({ operation: 'diff' })).toEqual([
      ['other', '"other" is required when operation is "diff"'],
    ]);
    await expect(run({ operation: 'diff', other: '2024-07-31T12:30:00Z' })).resolves.toMatchObject({
      seconds: 30 * 86_400,
      human: '30 days',
      relation: 'after',
    });
  });

  it('adds calendar months and years, ending on the last day of a shorter month', async () => {
    const add = async (datetime: string, amount: number, unit: string) =>
      ((await run({ operation: 'add', datetime, amount, unit })) as { result: { local: string } })
        .result.local;
    expect(await add('2024-01-31T10:00:00', 1, 'months')).toBe('2024-02-29 10:00:00');
    expect(await add('2024-01-31T10:00:00', 13, 'months')).toBe('2025-02-28 10:00:00');
    expect(await add('2024-03-15', -3, 'months')).toBe('2023-12-15 00:00:00');
    expect(await add('2024-02-29', 1, 'years')).toBe('2025-02-28 00:00:00');
    expect(await add('2024-02-29', -4, 'years')).toBe('2020-02-29 00:00:00');
    expect(issuesOf({ operation: 'add', amount: 0.5, unit: 'months' })).toEqual([
      ['amount', 'expected a whole number of months; use hours or minutes for fractions'],
    ]);
  });

  it('reads a time alone as that time today in the zone', async () => {
    const result = (await run({
      operation: 'convert',
      datetime: '9:00',
      from_timezone: 'America/New_York',
      to_timezone: 'Asia/Tokyo',
    })) as { from: { iso: string }; to: { iso: string } };
    expect(result.from.iso).toBe('2024-07-01T09:00:00-04:00');
    expect(result.to.iso).toBe('2024-07-01T22:00:00+09:00');
    expect(issuesOf({ operation: 'parse', datetime: '25:00' })).toHaveLength(1);
  });

  it('gives the same answer for the same input and clock', async () => {
    const input = { operation: 'convert', datetime: '2024-05-05T05:05', to_timezone: 'Asia/Tokyo' };
    expect(await run(input)).toEqual(await run(input));
  });
});
