/**
 * How the offline model puts a tool's result into words: one sentence (or a short list) per
 * result, shaped by the question when it matters ("will it rain tomorrow?" reads tomorrow's
 * forecast; "what day of the week is …" names the weekday).
 */
import type { ModelMessage } from './model.js';

/** A tool result message, as the offline model reads it back. */
export type ToolResultMessage = Extract<ModelMessage, { role: 'tool' }>;

/**
 * Turns one tool result (or tool error) into the answer's words. `input` is what the model asked
 * the tool, `question` the user's message.
 */
export function describeToolResult(
  message: ToolResultMessage,
  input: unknown = {},
  question = '',
): string {
  const output = isRecord(message.output) ? message.output : {};
  if (message.isError) return describeToolError(message.toolName, output['error']);
  const asked = isRecord(input) ? input : {};
  const described = describeToolOutput(message.toolName, output, asked, question);
  if (described !== undefined) return described;
  // A result in an unexpected shape is still shown, so the user sees what the tool did.
  const shown = message.output === undefined ? 'nothing' : JSON.stringify(message.output);
  return `The ${message.toolName} tool returned ${truncate(shown, 200)}.`;
}

function describeToolOutput(
  toolName: string,
  output: Record<string, unknown>,
  input: Record<string, unknown>,
  question: string,
): string | undefined {
  switch (toolName) {
    case 'calculator': {
      const { expression, result } = output;
      if (typeof expression !== 'string' || typeof result !== 'number') return undefined;
      return `${expression} = ${formatNumber(result)}.`;
    }
    case 'weather':
      return describeWeather(output, question);
    case 'search':
      return describeSearch(output);
    case 'datetime':
      return describeDatetime(output, input, question);
    default:
      return undefined;
  }
}

function describeWeather(output: Record<string, unknown>, question: string): string | undefined {
  const { location, temperature, units, condition, humidity, wind_kph: wind } = output;
  if (typeof location !== 'string' || typeof temperature !== 'number') return undefined;
  if (typeof condition !== 'string' || typeof humidity !== 'number') return undefined;
  if (typeof wind !== 'number') return undefined;
  const degrees = units === 'imperial' ? '°F' : '°C';
  const days = Array.isArray(output['forecast']) ? output['forecast'].filter(isRecord) : [];
  const wanted = daysAskedFor(question, days);
  if (wanted.length > 0) {
    const lines = wanted.map(({ day, label }) => describeDay(day, label, degrees));
    const rainQuestion = /\b(?:rain|raining|rainy|snow|snowing|umbrella|wet|storm|storms)\b/i.test(
      question,
    );
    const [first] = wanted;
    const wet = first !== undefined && Number(first.day['precipitation_mm']) > 0;
    const verdict =
      rainQuestion && wanted.length === 1
        ? wet
          ? 'Yes, expect precipitation. '
          : 'Probably not. '
        : '';
    if (lines.length === 1)
      return `${verdict}${lines[0] ?? ''.replace(/^/, '')}`.replace('{place}', location);
    return [
      `Forecast for ${location}:`,
      ...lines.map((line) => `- ${line.replace(' in {place}', '')}`),
    ].join('\n');
  }
  const { precipitation_mm: millimetres, precipitation_probability: probability } = output;
  const today =
    typeof probability === 'number'
      ? ` Chance of precipitation today: ${formatNumber(probability)}%${typeof millimetres === 'number' && millimetres > 0 ? ` (${formatNumber(millimetres)} mm)` : ''}.`
      : '';
  return `In ${location} it is ${formatNumber(temperature)}${degrees} and ${condition.toLowerCase()}, with ${formatNumber(humidity)}% humidity and wind at ${formatNumber(wind)} km/h.${today}`;
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** The forecast days a question is about, with how to call them ("Tomorrow", "Saturday"). */
function daysAskedFor(
  question: string,
  days: readonly Record<string, unknown>[],
): { day: Record<string, unknown>; label: string }[] {
  const labelled = days.map((day, index) => ({
    day,
    label:
      index === 0
        ? 'Today'
        : index === 1
          ? 'Tomorrow'
          : typeof day['weekday'] === 'string'
            ? day['weekday']
            : `Day ${index + 1}`,
  }));
  if (/\bday after tomorrow\b/i.test(question)) return labelled.slice(2, 3);
  if (/\btomorrow\b/i.test(question)) return labelled.slice(1, 2);
  if (/\bweekend\b/i.test(question)) {
    return labelled.filter(({ day }) => /^(?:Saturday|Sunday)$/.test(String(day['weekday'])));
  }
  const weekday = WEEKDAYS.find((name) => new RegExp(`\\b${name}\\b`, 'i').test(question));
  if (weekday !== undefined) {
    return labelled
      .filter(({ day }) => String(day['weekday']).toLowerCase() === weekday)
      .slice(0, 1);
  }
  if (
    /\bforecast\b|\bforcast\b|\bweek\b|\bnext (?:\d+ |few )?days\b|\bcoming days\b/i.test(question)
  )
    return labelled;
  if (/\btoday\b/i.test(question) && /\b(?:will|going to)\b/i.test(question))
    return labelled.slice(0, 1);
  return [];
}

function describeDay(day: Record<string, unknown>, label: string, degrees: string): string {
  const date = typeof day['date'] === 'string' ? day['date'] : '';
  const weekday = typeof day['weekday'] === 'string' ? day['weekday'] : '';
  const when = label === weekday ? `${weekday} ${date}` : `${label} (${weekday} ${date})`;
  const millimetres = Number(day['precipitation_mm']);
  const rain = millimetres > 0 ? `, ${formatNumber(millimetres)} mm` : '';
  return `${when} in {place}: ${String(day['condition'])}, ${formatNumber(Number(day['low']))}${degrees} to ${formatNumber(Number(day['high']))}${degrees}, ${formatNumber(Number(day['precipitation_probability']))}% chance of precipitation${rain}.`;
}

function describeSearch(output: Record<string, unknown>): string | undefined {
  const { query, results } = output;
  if (typeof query !== 'string' || !Array.isArray(results)) return undefined;
  if (results.length === 0) return `I found nothing for "${query}".`;
  const lines = results.filter(isRecord).map(describeSearchResult);
  return [`Here is what I found for "${query}":`, ...lines].join('\n');
}

function describeSearchResult(result: Record<string, unknown>, index: number): string {
  const title = typeof result['title'] === 'string' ? result['title'] : 'Untitled';
  const snippet = typeof result['snippet'] === 'string' ? ` — ${result['snippet']}` : '';
  const url = typeof result['url'] === 'string' ? result['url'] : undefined;
  const score =
    typeof result['score'] === 'number' ? `relevance ${formatNumber(result['score'])}` : undefined;
  const details = [url, score].filter((part) => part !== undefined).join(', ');
  return `${index + 1}. ${title}${snippet}${details === '' ? '' : ` (${details})`}`;
}

type Moment = {
  iso: string;
  timezone: string;
  local: string;
  weekday: string;
  utc_offset: string;
  locale?: unknown;
  utc?: unknown;
};

function isMoment(value: unknown): value is Moment {
  return (
    isRecord(value) &&
    ['iso', 'timezone', 'local', 'weekday', 'utc_offset'].every(
      (key) => typeof value[key] === 'string',
    )
  );
}

/** `Monday 2026-11-23 14:05:09`, or only the date when the time is midnight and only dates were asked. */
function when(moment: Moment, dateOnly: boolean): string {
  const local =
    dateOnly && moment.local.endsWith(' 00:00:00') ? moment.local.slice(0, 10) : moment.local;
  return `${moment.weekday} ${local}`;
}

function describeDatetime(
  output: Record<string, unknown>,
  input: Record<string, unknown>,
  question: string,
): string | undefined {
  const { from, to, start, result, formatted, epoch_ms: epoch, human, seconds, relation } = output;
  if (isMoment(from) && isMoment(to)) {
    const hours = (offsetMinutes(to.utc_offset) - offsetMinutes(from.utc_offset)) / 60;
    const gap =
      hours === 0
        ? 'the same time'
        : `${formatNumber(Math.abs(hours))} hour${Math.abs(hours) === 1 ? '' : 's'} ${hours > 0 ? 'ahead' : 'behind'}`;
    return `${when(from, false)} in ${from.timezone} is ${when(to, false)} in ${to.timezone} (${to.timezone} is ${gap}).`;
  }
  if (isMoment(start) && isMoment(result)) {
    const amount = Number(input['amount'] ?? output['amount']);
    const unit = String(input['unit'] ?? output['unit']);
    const calendar = /^(?:days|weeks|months|years)$/.test(unit);
    const size = `${formatNumber(Math.abs(amount))} ${Math.abs(amount) === 1 ? unit.replace(/s$/, '') : unit}`;
    const direction = amount < 0 ? 'before' : 'after';
    const origin = input['datetime'] === undefined ? 'now' : when(start, calendar);
    return `${size} ${direction} ${origin} is ${when(result, calendar)} (${result.timezone}).`;
  }
  if (typeof formatted === 'string' && isMoment(output)) {
    return `In ${String(output.locale)}: ${formatted}.`;
  }
  if (typeof epoch === 'number' && isMoment(output)) {
    const written = typeof input['datetime'] === 'string' ? input['datetime'] : output.iso;
    if (/\bday\b|\bweekday\b/i.test(question) && !/\bparse\b/i.test(question)) {
      return `${written} is a ${output.weekday}.`;
    }
    return `${written} is ${when(output, false)} in ${output.timezone} (UTC ${String(output.utc)}, ${epoch} ms since 1970-01-01).`;
  }
  if (
    typeof human === 'string' &&
    typeof seconds === 'number' &&
    typeof from === 'string' &&
    typeof to === 'string'
  ) {
    const days = Math.abs(seconds) / 86_400;
    const inDays =
      Number.isInteger(days) && days >= 14 && human !== `${formatNumber(days)} days`
        ? ` (${formatNumber(days)} days)`
        : '';
    const weeks = Number.isInteger(days) && days >= 14 ? ` That is ${weeksAndDays(days)}.` : '';
    const fromText = input['datetime'] === undefined ? 'now' : from.slice(0, 10);
    const toText = typeof input['other'] === 'string' ? input['other'] : to;
    if (relation === 'equal') return `${toText} is ${fromText}: no time between them.`;
    return `${toText} is ${human}${inDays} ${relation === 'before' ? 'before' : 'after'} ${fromText}.${weeks}`;
  }
  const { timezone, local, weekday, utc_offset: offset } = output;
  if (typeof timezone !== 'string' || typeof local !== 'string') return undefined;
  if (typeof weekday !== 'string' || typeof offset !== 'string') return undefined;
  const utcOffset = /^[+-]/.test(offset) ? `UTC${offset}` : offset;
  return `It is ${weekday} ${local.replace('T', ' ')} in ${timezone} (${utcOffset}).`;
}

function weeksAndDays(days: number): string {
  const weeks = Math.floor(days / 7);
  const rest = days % 7;
  const weekText = `${weeks} week${weeks === 1 ? '' : 's'}`;
  return rest === 0 ? weekText : `${weekText} and ${rest} day${rest === 1 ? '' : 's'}`;
}

function offsetMinutes(offset: string): number {
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(offset);
  if (match === null) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
}

const TOOL_FAILURES: Readonly<Record<string, string>> = {
  calculator: "I couldn't finish the calculation",
  weather: "I couldn't get the weather",
  datetime: "I couldn't work out the date or time",
  search: "I couldn't search",
};

function describeToolError(toolName: string, error: unknown): string {
  const code = isRecord(error) ? error['code'] : undefined;
  const reason = isRecord(error) ? error['message'] : undefined;
  if (code === 'tool_timeout') {
    return `The ${toolName} tool did not answer in time, so I can't tell you that right now.`;
  }
  const failure = TOOL_FAILURES[toolName] ?? `The ${toolName} tool failed`;
  const detail =
    typeof reason === 'string' && reason.trim() !== '' ? reason.trim() : 'unknown error';
  return `${failure}: ${/[.!?]$/.test(detail) ? detail : `${detail}.`}`;
}

/** Twelve significant digits hide binary floating-point noise such as 0.1 + 0.2 = 0.30000000000000004. */
export function formatNumber(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(12))) : String(value);
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
