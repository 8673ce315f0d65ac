/**
 * Dates and times in chat, routed to the datetime tool's six operations: the time now in a place
 * (`now`), a time in one zone seen from another (`convert`), a date in another language
 * (`format`), reading an ISO date-time or the weekday of a date (`parse`), a date plus or minus a
 * duration (`add`) and the time between two dates (`diff`). A message with a date in it never
 * reaches the calculator: "2026-01-01" is not 2026 - 01 - 01, nor "2026/01/01" 2026 / 01 / 01.
 *
 * Over 300 lines because the six operations share one reading of the message (the dates, zones
 * and durations found in it, and which words name an operation); slash dates, which need a
 * question of their own, already live in offline-slash-dates.ts.
 */
import { replaceNumberWords } from './offline-number-words.js';
import { findZoneMentions, unknownPlaceNote, type PlaceMention } from './offline-places.js';
import type { OfflineToolCall } from './offline-rules.js';
import { findSlashDates, whichDate } from './offline-slash-dates.js';

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
] as const;
const MONTH = String.raw`(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)`;
const ISO_DATE =
  /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?(?![\d-])/gi;
const DAY_MONTH_YEAR = new RegExp(
  String.raw`\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?${MONTH}\.?,?\s+(\d{4})\b`,
  'gi',
);
const MONTH_DAY_YEAR = new RegExp(
  String.raw`\b${MONTH}\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b`,
  'gi',
);
const DATE_WITHOUT_YEAR = new RegExp(
  String.raw`\b(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?${MONTH}|${MONTH}\s+\d{1,2}(?:st|nd|rd|th)?)\b(?!,?\s+\d{4})`,
  'i',
);

/**
 * A date written in the clause, as an ISO string, where it was and as it was written. A slash
 * date that reads as a different day with the day first or the month first ("03/04/2026") has
 * both readings and no `iso`: only the user can say which is meant.
 */
export type DateMention = { index: number; text: string } & (
  | { iso: string; readings?: undefined }
  | { iso?: undefined; readings: { dayFirst: string; monthFirst: string } }
);

/**
 * Every date in the clause, in order: ISO ("2026-01-15"), written out ("15 January 2026",
 * "Jan 15, 2026") or with slashes ("2026/01/15", "15/01/2026", "01/15/2026").
 *
 * @example
 * findDates('from 25/12/2026 to 2027-01-01').map((date) => date.iso); // ['2026-12-25', '2027-01-01']
 */
export function findDates(clause: string): DateMention[] {
  const dates: DateMention[] = [];
  const found = (match: RegExpMatchArray & { index: number }, iso: string) => {
    dates.push({ iso, index: match.index, text: match[0] });
  };
  for (const match of clause.matchAll(ISO_DATE)) found(match, match[0].replace(' ', 'T'));
  for (const match of clause.matchAll(DAY_MONTH_YEAR)) {
    found(match, isoDate(match[3], monthNumber(match[2]), match[1]));
  }
  for (const match of clause.matchAll(MONTH_DAY_YEAR)) {
    found(match, isoDate(match[3], monthNumber(match[1]), match[2]));
  }
  dates.push(...findSlashDates(clause));
  return dates.sort((left, right) => left.index - right.index);
}

function monthNumber(name = ''): number {
  return MONTHS.findIndex((month) => month.startsWith(name.toLowerCase().slice(0, 3))) + 1;
}

function isoDate(year = '', month = 0, day = ''): string {
  return `${year}-${String(month).padStart(2, '0')}-${day.padStart(2, '0')}`;
}

/** A duration such as "30 days", "2 weeks ago", "in 3 hours": amount (signed) and unit. */
interface Duration {
  amount: number;
  unit: 'seconds' | 'minutes' | 'hours' | 'days' | 'weeks' | 'months' | 'years';
}

const RELATIVE_DAYS: readonly (readonly [RegExp, Duration])[] = [
  [/\bday after tomorrow\b/i, { amount: 2, unit: 'days' }],
  [/\bday before yesterday\b/i, { amount: -2, unit: 'days' }],
  [/\btomorrow(?:'s)?\b/i, { amount: 1, unit: 'days' }],
  [/\byesterday(?:'s)?\b/i, { amount: -1, unit: 'days' }],
  [/\bnext week\b/i, { amount: 1, unit: 'weeks' }],
  [/\blast week\b/i, { amount: -1, unit: 'weeks' }],
  [/\bnext month\b/i, { amount: 1, unit: 'months' }],
  [/\blast month\b/i, { amount: -1, unit: 'months' }],
  [/\bnext year\b/i, { amount: 1, unit: 'years' }],
  [/\blast year\b/i, { amount: -1, unit: 'years' }],
];

function findDuration(text: string): Duration | undefined {
  const match =
    /\b(\d+(?:\.\d+)?|an?)\s*(sec(?:ond)?s?|min(?:ute)?s?|h(?:ou)?rs?|hours?|days?|weeks?|months?|years?|yrs?)\b/i.exec(
      text,
    );
  if (match === null) {
    return RELATIVE_DAYS.find(([pattern]) => pattern.test(text))?.[1];
  }
  const amount = /^an?$/i.test(match[1] ?? '') ? 1 : Number(match[1]);
  const unit = unitOf(match[2] ?? '');
  const after = text.slice(match.index + match[0].length);
  const before = text.slice(0, match.index);
  const backwards =
    /^\s*(?:ago|before|earlier|back|prior)\b/i.test(after) ||
    /\b(?:subtract|minus|take away|remove|go back)\s*$/i.test(before);
  return { amount: backwards ? -amount : amount, unit };
}

function unitOf(word: string): Duration['unit'] {
  const lower = word.toLowerCase();
  if (lower.startsWith('s')) return 'seconds';
  if (lower.startsWith('mo')) return 'months';
  if (lower.startsWith('mi')) return 'minutes';
  if (lower.startsWith('h')) return 'hours';
  if (lower.startsWith('d')) return 'days';
  if (lower.startsWith('w')) return 'weeks';
  return 'years';
}

const TIME_OF_DAY =
  /\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)(?!\w)|\b(\d{1,2}):(\d{2})\b|\bnoon\b|\bmidday\b|\bmidnight\b/i;

function timeIndex(text: string): number {
  return TIME_OF_DAY.exec(text)?.index ?? -1;
}

/** "9am", "3:30 pm", "14:00", "noon", "midnight" → `HH:MM`. */
function findTimeOfDay(text: string): string | undefined {
  if (/\bnoon\b|\bmidday\b/i.test(text)) return '12:00';
  if (/\bmidnight\b/i.test(text)) return '00:00';
  const match =
    /\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)(?!\w)|\b(\d{1,2}):(\d{2})\b/i.exec(text);
  if (match === null) return undefined;
  let hour = Number(match[1] ?? match[4]);
  const minute = match[2] ?? match[5] ?? '00';
  const half = match[3]?.toLowerCase().replaceAll('.', '');
  if (half === 'pm' && hour < 12) hour += 12;
  if (half === 'am' && hour === 12) hour = 0;
  if (hour > 23 || Number(minute) > 59) return undefined;
  return `${String(hour).padStart(2, '0')}:${minute}`;
}

const LOCALES: Readonly<Record<string, string>> = {
  english: 'en-GB',
  american: 'en-US',
  british: 'en-GB',
  french: 'fr-FR',
  german: 'de-DE',
  spanish: 'es-ES',
  italian: 'it-IT',
  portuguese: 'pt-PT',
  brazilian: 'pt-BR',
  dutch: 'nl-NL',
  swedish: 'sv-SE',
  polish: 'pl-PL',
  russian: 'ru-RU',
  japanese: 'ja-JP',
  chinese: 'zh-CN',
  korean: 'ko-KR',
  arabic: 'ar-EG',
  hindi: 'hi-IN',
  turkish: 'tr-TR',
};

function findLocale(text: string): string | undefined {
  const tag = /\b([a-z]{2})[-_]([A-Z]{2})\b/.exec(text);
  if (tag !== null) return `${tag[1] ?? ''}-${tag[2] ?? ''}`;
  const word =
    /\b(english|american|british|french|german|spanish|italian|portuguese|brazilian|dutch|swedish|polish|russian|japanese|chinese|korean|arabic|hindi|turkish)\b/i.exec(
      text,
    );
  return word === null ? undefined : LOCALES[word[1]?.toLowerCase() ?? ''];
}

const NOW_QUESTION =
  /\b(?:what time|wat time|what tiem|the time|current time|local time|time (?:is it )?(?:in|now)|time ?zone|(?:what's|whats|what is) the date|today'?s date|date today|the date|what day is (?:it|today)|what year is it|what month is it|time right now|time now)\b/i;
const DIFF_QUESTION =
  /\b(?:how (?:many|long)|number of|count (?:the )?days|difference between|time between|days? (?:until|till|to go|since|left|between)|weeks? (?:until|till|since|between)|until|till|since)\b/i;
const WEEKDAY_QUESTION =
  /\b(?:what|which|wich) (?:day|weekday)(?: of the week)?\b|\bday of the week\b|\bweekday\b/i;
const DATE_QUESTION =
  /\b(?:what|which|wat) (?:day|date|time|weekday)\b|\bwhat(?:'s| is| will be)? the date\b|\bdate (?:in|of|will)\b|\bfrom (?:now|today)\b|\b(?:ago|later)\b|\b(?:add|plus|subtract|minus)\b/i;

/**
 * The datetime call a clause asks for, a note when it names a place without a known zone or a
 * date without a year, or nothing when it is not about dates or times.
 *
 * @example
 * routeDate('what day is 30 days from 2026-01-01');
 * // { toolName: 'datetime', input: { operation: 'add', datetime: '2026-01-01', amount: 30, unit: 'days' } }
 */
export function routeDate(clause: string): OfflineToolCall | string | undefined {
  const text = replaceNumberWords(clause);
  const mentions = findDates(text);
  const unclear = mentions.find((mention) => mention.readings !== undefined);
  if (unclear?.readings !== undefined) return whichDate(unclear.text, unclear.readings);
  const dates = mentions.filter((mention) => mention.iso !== undefined);
  const format = /\bformat\b/i.test(text);
  const parse = /\bparse\b/i.test(text);
  const converting =
    /\bconvert\b|\bwhen it'?s\b|\bwhen it is\b|\bdifference between\b|\bahead of\b|\bbehind\b/i.test(
      text,
    );
  const zones = findZoneMentions(
    text,
    converting ? ['in', 'for', 'at', 'from', 'to', 'between', 'and'] : ['in', 'for', 'at'],
  );
  const unknown = zones.find((mention) => mention.place === undefined);
  const zone = (mention: PlaceMention | undefined) => mention?.place?.zone;
  const call = (input: Record<string, string | number | undefined>): OfflineToolCall => ({
    toolName: 'datetime',
    input: Object.fromEntries(
      Object.entries(input).filter(([, value]) => value !== undefined),
    ) as Record<string, string | number>,
  });
  const timezone = zone(zones.find((mention) => mention.place !== undefined));

  if (format && (dates.length > 0 || /\b(?:today|now|date)\b/i.test(text))) {
    const pattern = DATE_PATTERN.exec(text)?.[0];
    if (pattern !== undefined) return byLocaleNotPattern(pattern, dates[0]?.iso);
    return call({
      operation: 'format',
      datetime: dates[0]?.iso,
      locale: findLocale(text) ?? 'en-US',
      timezone,
    });
  }
  if (parse && dates.length > 0)
    return call({ operation: 'parse', datetime: dates[0]?.iso, timezone });

  const time = findTimeOfDay(text);
  if (converting || (time !== undefined && zones.length >= 2)) {
    const known = zones.filter((mention) => mention.place !== undefined);
    if (unknown !== undefined) return unknownPlaceNote(unknown.text, 'the time zone');
    if (known.length >= 2 || (known.length === 1 && (time !== undefined || dates.length > 0))) {
      // The zone written nearest the time is the one it is given in: "9am in London",
      // "what time is it in Tokyo when it's 9am in London".
      const at = time === undefined ? -1 : timeIndex(text);
      const ordered =
        at < 0
          ? known
          : [...known].sort(
              (left, right) => Math.abs(left.index - at) - Math.abs(right.index - at),
            );
      const [from, to] = known.length >= 2 ? ordered : [undefined, known[0]];
      return call({
        operation: 'convert',
        datetime: dates[0]?.iso ?? time,
        from_timezone: zone(from) ?? 'UTC',
        to_timezone: zone(to),
      });
    }
  }

  const duration = findDuration(text);
  const [first, second] = dates;
  // "2026-01-01 - 2025-12-01" is the time from the second date to the first.
  if (first !== undefined && second !== undefined && isSubtraction(text, first, second)) {
    return call({ operation: 'diff', datetime: second.iso, other: first.iso, timezone });
  }
  if (dates.length >= 2 && DIFF_QUESTION.test(text)) {
    return call({ operation: 'diff', datetime: dates[0]?.iso, other: dates[1]?.iso, timezone });
  }
  if (first !== undefined && duration === undefined) {
    const bare = BARE_NUMBER_AFTER.exec(text.slice(first.index + first.text.length));
    if (bare !== null) return whichUnit(first.iso, bare[1] ?? '', bare[2] ?? '');
  }
  // "how many days until 2026-12-25" counts; "30 days from 2026-01-01" (a number) adds.
  if (dates.length === 1 && duration === undefined && DIFF_QUESTION.test(text)) {
    return call({ operation: 'diff', other: dates[0]?.iso, timezone });
  }
  if (duration !== undefined && (dates.length > 0 || DATE_QUESTION.test(text))) {
    if (dates.length === 0 && unknown !== undefined)
      return unknownPlaceNote(unknown.text, 'the time zone');
    return call({
      operation: 'add',
      datetime: dates[0]?.iso,
      amount: duration.amount,
      unit: duration.unit,
      timezone,
    });
  }
  if (dates.length > 0) {
    // A weekday question, or any other mention of a date: describe it, never calculate with it.
    return call({ operation: 'parse', datetime: dates[0]?.iso, timezone });
  }
  if (WEEKDAY_QUESTION.test(text) && DATE_WITHOUT_YEAR.test(text)) {
    return 'Which year? Ask with the full date, for example: what day of the week is 2026-07-04?';
  }
  // "Tokyo time", "berlin local time?": a place and the word time is a question too.
  const placeTime = timezone !== undefined && /\btime\s*(?:now|please|pls)?\s*[?!.]*$/i.test(text);
  if (!NOW_QUESTION.test(text) && !placeTime) return undefined;
  if (unknown !== undefined && timezone === undefined)
    return unknownPlaceNote(unknown.text, 'the time zone');
  return call({ operation: 'now', timezone: timezone ?? 'UTC' });
}

/** Whether the clause names a date (ISO, slashes or written out), so no calculator should see it. */
export function mentionsDate(clause: string): boolean {
  return findDates(clause).length > 0;
}

function isSubtraction(text: string, first: DateMention, second: DateMention): boolean {
  const between = text.slice(first.index + first.text.length, second.index);
  return /^\s*(?:-|−|minus)\s*$/i.test(between);
}

// "2026-01-01 + 30": a number without a unit after a date is not calculated, nor guessed as days.
const BARE_NUMBER_AFTER = /^\s*(\+|-|−|plus|minus)\s*(\d+(?:\.\d+)?)(?![\d.]|\s*[\p{L}%])/iu;

function whichUnit(date: string, sign: string, amount: string): string {
  const word = /^(?:\+|plus)$/i.test(sign) ? 'plus' : 'minus';
  return `${amount} what? Say the unit, for example: ${date} ${word} ${amount} days (or weeks, months, years, hours, minutes).`;
}

// "dd/mm/yyyy", "MM-DD-YY", "yyyy.mm.dd": a pattern, which the datetime tool does not take.
const DATE_PATTERN = /\b(?:d{1,2}|m{1,4}|y{2,4})(?:[/.-](?:d{1,2}|m{1,4}|y{2,4})){1,2}\b/i;

function byLocaleNotPattern(pattern: string, iso: string | undefined): string {
  const date = iso ?? 'today';
  return `I format dates by language and region, not by a pattern such as ${pattern}. Ask for example "format ${date} in british" (day first), "format ${date} in american" (month first) or "format ${date} in german".`;
}
