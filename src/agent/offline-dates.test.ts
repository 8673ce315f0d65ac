import { describe, expect, it } from 'vitest';
import { findDates, mentionsDate, routeDate } from './offline-dates.js';

const isoOf = (clause: string) => findDates(clause).map((date) => date.iso);

describe('findDates', () => {
  it.each([
    ['what is 2026/01/01 + 30', ['2026-01-01']],
    ['2026/7/4', ['2026-07-04']],
    ['what is 25/12/2026', ['2026-12-25']],
    ['from 12/25/2026 to 01/01/2027', ['2026-12-25', '2027-01-01']],
    ['between 01/02/2026 and 25/12/2026', ['2026-02-01', '2026-12-25']],
    ['between 12/31/2026 and 01/02/2027', ['2026-12-31', '2027-01-02']],
    ['05/05/2026', ['2026-05-05']],
    ['2026-01-01 or 15 January 2026 or 2026/01/15', ['2026-01-01', '2026-01-15', '2026-01-15']],
  ])('reads %j as %j', (clause, expected) => {
    expect(isoOf(clause)).toEqual(expected);
  });

  it('keeps both readings of a slash date that nothing in the clause decides', () => {
    expect(findDates('what day is 03/04/2026')).toEqual([
      {
        index: 12,
        text: '03/04/2026',
        readings: { dayFirst: '2026-04-03', monthFirst: '2026-03-04' },
      },
    ]);
  });

  it.each(['100 / 8', '1000 / 10 / 2', '12/4', '25/25/2026', '2026/13/01', '1/2/26'])(
    'finds no date in %j',
    (clause) => {
      expect(findDates(clause)).toEqual([]);
    },
  );
});

describe('mentionsDate', () => {
  it.each(['what is 2026/01/01 + 30', 'what is 25/12/2026', 'is it 03/04/2026'])(
    'sees the date in %j, so the calculator never does (regression: slash dates were divided)',
    (clause) => {
      expect(mentionsDate(clause)).toBe(true);
    },
  );

  it('leaves "100 / 8" to the calculator', () => {
    expect(mentionsDate('100 / 8')).toBe(false);
  });
});

describe('routeDate', () => {
  const datetime = (input: Record<string, string | number>) => ({ toolName: 'datetime', input });

  it.each([
    [
      'how many days from 12/25/2026 to 01/01/2027',
      { operation: 'diff', datetime: '2026-12-25', other: '2027-01-01' },
    ],
    ['what is 25/12/2026', { operation: 'parse', datetime: '2026-12-25' }],
    ['what day of the week is 2026/07/04', { operation: 'parse', datetime: '2026-07-04' }],
    [
      '30 days after 12/25/2026',
      { operation: 'add', datetime: '2026-12-25', amount: 30, unit: 'days' },
    ],
    [
      'format 25/12/2026 in french',
      { operation: 'format', datetime: '2026-12-25', locale: 'fr-FR' },
    ],
  ])('sends the slash date in %j to the datetime tool as %j', (clause, input) => {
    expect(routeDate(clause)).toEqual(datetime(input));
  });

  it('asks which date is meant when day first and month first are different days', () => {
    expect(routeDate('what day of the week is 03/04/2026')).toBe(
      'Which date is 03/04/2026: 3 April 2026 (day first) or 4 March 2026 (month first)? Ask again with the date as 2026-04-03 or 2026-03-04.',
    );
  });

  it('asks for the unit of a bare number added to a date rather than calculating with it', () => {
    expect(routeDate('what is 2026/01/01 + 30')).toBe(
      '30 what? Say the unit, for example: 2026-01-01 plus 30 days (or weeks, months, years, hours, minutes).',
    );
    expect(routeDate('2026-03-01 minus 2')).toMatch(/^2 what\? .*2026-03-01 minus 2 days/);
  });

  it.each([
    ['2026-01-01 - 2025-12-01', '2025-12-01', '2026-01-01'],
    ['what is 2026/01/01 minus 2025/12/01', '2025-12-01', '2026-01-01'],
    ['2025-12-01 − 2026-01-01', '2026-01-01', '2025-12-01'],
  ])(
    'reads %j as the time from the second date to the first (regression: parsed the first)',
    (clause, from, to) => {
      expect(routeDate(clause)).toEqual(datetime({ operation: 'diff', datetime: from, other: to }));
    },
  );

  it.each([
    ['format 2026-01-01 as dd/mm/yyyy', 'dd/mm/yyyy', '2026-01-01'],
    ['format today as YYYY-MM-DD', 'YYYY-MM-DD', 'today'],
    ['format 12/25/2026 like mm.dd.yy', 'mm.dd.yy', '2026-12-25'],
  ])(
    'says it formats by locale, not by the pattern in %j (regression: answered en-US silently)',
    (clause, pattern, date) => {
      expect(routeDate(clause)).toBe(
        `I format dates by language and region, not by a pattern such as ${pattern}. Ask for example "format ${date} in british" (day first), "format ${date} in american" (month first) or "format ${date} in german".`,
      );
    },
  );
});
