/**
 * Dates written with slashes and a four-digit year: `yyyy/mm/dd`, `dd/mm/yyyy` and `mm/dd/yyyy`.
 * A part over 12 tells day-first from month-first; when nothing does, the user is asked.
 */
import type { DateMention } from './offline-dates.js';

// Slash dates need a four-digit year and no spaces, so "100 / 8" and "1000 / 10 / 2" stay arithmetic.
const YEAR_FIRST = /(?<![\d/.])(\d{4})\/(\d{1,2})\/(\d{1,2})(?![\d/])/g;
const YEAR_LAST = /(?<![\d/.])(\d{1,2})\/(\d{1,2})\/(\d{4})(?![\d/])/g;

/**
 * Every slash date in the clause, as {@link DateMention}s.
 *
 * @example
 * findSlashDates('from 2026/01/15 to 25/12/2026').map((date) => date.iso); // ['2026-01-15', '2026-12-25']
 * findSlashDates('03/04/2026')[0]?.readings; // { dayFirst: '2026-04-03', monthFirst: '2026-03-04' }
 */
export function findSlashDates(clause: string): DateMention[] {
  const yearFirst = [...clause.matchAll(YEAR_FIRST)].flatMap((match): DateMention[] => {
    const [text, year = '', month = '', day = ''] = match;
    const iso = calendarDate(year, month, day);
    return iso === undefined ? [] : [{ iso, index: match.index, text }];
  });
  return [...yearFirst, ...slashDatesYearLast(clause)];
}

/**
 * `dd/mm/yyyy` and `mm/dd/yyyy`. A part over 12 decides the order, for every date in the clause
 * ("from 01/02/2026 to 25/12/2026" is day first throughout); when nothing decides it and the two
 * readings are different days, the mention keeps both.
 */
function slashDatesYearLast(clause: string): DateMention[] {
  const slashDates = [...clause.matchAll(YEAR_LAST)].map((match) => {
    const [first = '', second = '', year = ''] = match.slice(1);
    return {
      index: match.index,
      text: match[0],
      dayFirst: calendarDate(year, second, first),
      monthFirst: calendarDate(year, first, second),
    };
  });
  const orders = new Set(
    slashDates.flatMap(({ dayFirst, monthFirst }) => decidedOrder(dayFirst, monthFirst)),
  );
  const [order] = orders.size === 1 ? orders : [];
  return slashDates.flatMap(({ index, text, dayFirst, monthFirst }): DateMention[] => {
    if (dayFirst === undefined || monthFirst === undefined || dayFirst === monthFirst) {
      const iso = dayFirst ?? monthFirst;
      return iso === undefined ? [] : [{ iso, index, text }];
    }
    if (order !== undefined)
      return [{ iso: order === 'dayFirst' ? dayFirst : monthFirst, index, text }];
    return [{ index, text, readings: { dayFirst, monthFirst } }];
  });
}

/** The order a slash date can only be read in, if the other reading is no calendar day. */
function decidedOrder(dayFirst?: string, monthFirst?: string): ('dayFirst' | 'monthFirst')[] {
  if (dayFirst !== undefined && monthFirst === undefined) return ['dayFirst'];
  if (monthFirst !== undefined && dayFirst === undefined) return ['monthFirst'];
  return [];
}

/** `yyyy-mm-dd` when the month is 1–12 and the day 1–31; the datetime tool checks the month's length. */
function calendarDate(year: string, month: string, day: string): string | undefined {
  const [monthNumber, dayNumber] = [Number(month), Number(day)];
  if (monthNumber < 1 || monthNumber > 12 || dayNumber < 1 || dayNumber > 31) return undefined;
  return `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
}

/** The clarifying question for a slash date that is a different day read day first or month first. */
export function whichDate(
  written: string,
  readings: { dayFirst: string; monthFirst: string },
): string {
  const { dayFirst, monthFirst } = readings;
  return `Which date is ${written}: ${longDate(dayFirst)} (day first) or ${longDate(monthFirst)} (month first)? Ask again with the date as ${dayFirst} or ${monthFirst}.`;
}

function longDate(iso: string): string {
  const [year, month, day] = iso.split('-').map(Number);
  const name = new Date(Date.UTC(year ?? 0, (month ?? 1) - 1)).toLocaleString('en-GB', {
    month: 'long',
    timeZone: 'UTC',
  });
  return `${String(day)} ${name} ${String(year)}`;
}
