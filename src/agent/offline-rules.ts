/**
 * The offline model's rules: after tool results it puts them into words; otherwise the message
 * being answered, read with the rest of the conversation, decides between tool calls (dates and
 * times, calculations, weather, search) and a text answer.
 */
import type { ModelMessage } from './model.js';
import { describeToolResult, type ToolResultMessage } from './offline-answers.js';
import { routeArithmetic } from './offline-arithmetic.js';
import {
  answerAboutConversation,
  followUpSubject,
  readConversation,
  type ConversationMemory,
} from './offline-conversation.js';
import { mentionsDate, routeDate } from './offline-dates.js';
import { CANNED_ANSWERS, FALLBACK_ANSWER } from './offline-knowledge.js';
import { findPlaceMentions } from './offline-places.js';

/** A tool call the offline model decided to make; the model gives it its id. */
export interface OfflineToolCall {
  toolName: 'calculator' | 'weather' | 'datetime' | 'search';
  input: Record<string, string | number>;
}

/** What the offline model answers in one step: tool calls, or text. */
export type OfflineDecision =
  { type: 'tool-calls'; toolCalls: OfflineToolCall[] } | { type: 'text'; text: string };

const EMPTY_MEMORY: ConversationMemory = {
  current: undefined,
  earlierQuestions: [],
  previousResult: undefined,
  name: undefined,
  previousQuestion: undefined,
};

/**
 * Decides the offline model's next step from the conversation. Tool results at the end are put
 * into words (so the agent loop ends); otherwise the last user message is answered, with the
 * earlier ones as its context: the user's name, what they asked before, the last result.
 *
 * @example
 * decideOfflineReply([{ role: 'user', content: 'What is 5 + 3?', userId: 'u1' }]);
 * // { type: 'tool-calls', toolCalls: [{ toolName: 'calculator', input: { operation: 'evaluate', expression: '5 + 3' } }] }
 */
export function decideOfflineReply(messages: readonly ModelMessage[]): OfflineDecision {
  const memory = readConversation(messages);
  const toolResults = trailingToolResults(messages);
  if (toolResults.length > 0) {
    const calls = messages.findLast((message) => message.role === 'assistant')?.toolCalls ?? [];
    const question = memory.current?.content ?? '';
    const sentences = toolResults.map((result) =>
      describeToolResult(
        result,
        calls.find((call) => call.toolCallId === result.toolCallId)?.input,
        question,
      ),
    );
    const separator = sentences.some((sentence) => sentence.includes('\n')) ? '\n\n' : ' ';
    return { type: 'text', text: sentences.join(separator) };
  }
  // With no user message yet (a system prompt alone) the model introduces itself.
  return decideForUserText(memory.current?.content ?? 'hello', memory);
}

/** Decides the answer to one user message: tool calls when it asks for any, text otherwise. */
export function decideForUserText(
  text: string,
  memory: ConversationMemory = EMPTY_MEMORY,
): OfflineDecision {
  const aboutConversation = answerAboutConversation(text, memory);
  if (aboutConversation !== undefined) return { type: 'text', text: aboutConversation };
  const followUp = followUpDecision(text, memory);
  if (followUp !== undefined) return followUp;
  const toolCalls: OfflineToolCall[] = [];
  const notes: string[] = [];
  for (const clause of text.split(CLAUSE_BOUNDARY)) {
    const outcome = routeClause(clause.trim(), memory.previousResult);
    if (outcome === undefined) continue;
    if (typeof outcome === 'string') notes.push(outcome);
    else if (!toolCalls.some((call) => JSON.stringify(call) === JSON.stringify(outcome))) {
      toolCalls.push(outcome);
    }
  }
  if (toolCalls.length > 0) return { type: 'tool-calls', toolCalls };
  if (notes.length > 0) return { type: 'text', text: notes.join(' ') };
  return { type: 'text', text: textAnswer(text) };
}

/** "and in Tokyo?" after a time question asks the time in Tokyo; "what about tomorrow?" likewise. */
function followUpDecision(text: string, memory: ConversationMemory): OfflineDecision | undefined {
  const subject = followUpSubject(text);
  const previous = memory.previousQuestion;
  if (subject === undefined || previous === undefined) return undefined;
  const before = decideForUserText(previous, { ...memory, previousQuestion: undefined });
  const [call] = before.type === 'tool-calls' ? before.toolCalls : [];
  if (call === undefined) return undefined;
  const place = findPlaceMentions(`in ${subject.replace(/^(?:in|for|at)\s+/i, '')}`)[0];
  let rephrased: string | undefined;
  if (call.toolName === 'weather') {
    rephrased =
      place?.place !== undefined
        ? previous.replace(/\b(?:in|for|at)\s+.*$/i, `in ${place.text}`)
        : `weather in ${String(call.input['location'])} ${subject}`;
    if (place?.place !== undefined && !/\b(?:in|for|at)\b/i.test(previous))
      rephrased = `weather in ${place.text}`;
  } else if (
    call.toolName === 'datetime' &&
    call.input['operation'] === 'now' &&
    place !== undefined
  ) {
    rephrased = `what time is it in ${place.text}`;
  }
  return rephrased === undefined
    ? undefined
    : decideForUserText(rephrased, { ...memory, previousQuestion: undefined });
}

function trailingToolResults(messages: readonly ModelMessage[]): ToolResultMessage[] {
  const results: ToolResultMessage[] = [];
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message?.role !== 'tool') break;
    results.unshift(message);
  }
  return results;
}

// A message may ask for several things ("what is 5 + 3 and what's the weather in Paris?"); it is
// split where a new question starts, but not at every "and", so "search for salt and pepper" stays whole.
const CLAUSE_BOUNDARY =
  /[?!;\n]+|\.(?=\s|$)|(?:,|\s+(?:and|then))\s*(?:(?:also|then)\s+)?(?=(?:what|what's|whats|how|is|are|will|search|look|find|tell|calculate|compute|check|get|give|show)\b)/i;

/** A tool call for the clause, a note asking for what is missing, or nothing. */
function routeClause(
  clause: string,
  previousResult: number | undefined,
): OfflineToolCall | string | undefined {
  if (clause === '') return undefined;
  // Weather first: "will it rain tomorrow" is about rain, not about tomorrow's date.
  const weather = routeWeather(clause);
  if (weather !== undefined) return weather;
  const date = routeDate(clause);
  if (date !== undefined) return date;
  if (!mentionsDate(clause)) {
    const arithmetic = routeArithmetic(clause, previousResult);
    if (arithmetic !== undefined) return arithmetic;
  }
  return routeSearch(clause);
}

const STRONG_WEATHER =
  /\b(?:weather|wether|waether|weahter|wheather|weater|forecast|forcast|temperature|temprature|temperture)\b/i;
// "cold" alone is not weather ("a cold start in Lambda"), so weak words need "is it" and a place.
const WEAK_WEATHER =
  /\b(?:is|will) it (?:be )?(?:going to )?(?:rain(?:ing|y)?|snow(?:ing|y)?|sunny|cloudy|windy|humid|hot|cold|warm)\b|\b(?:raining|snowing)\b|\bneed an umbrella\b|\bhow (?:hot|cold|warm) is it\b/i;

function routeWeather(clause: string): OfflineToolCall | string | undefined {
  const strong = STRONG_WEATHER.test(clause);
  if (!strong && !WEAK_WEATHER.test(clause)) return undefined;
  const [mention] = findPlaceMentions(clause);
  if (mention === undefined) {
    return strong ? 'Which city should I check the weather for?' : undefined;
  }
  const input: Record<string, string | number> = { location: mention.place?.name ?? mention.text };
  if (/fahrenheit|imperial|°\s*f\b/i.test(clause)) input['units'] = 'imperial';
  const days = forecastDays(clause);
  if (days !== undefined) input['days'] = days;
  return { toolName: 'weather', input };
}

const WEEKDAY_NAMES =
  /\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|\bweekend\b/i;

/** Forecasts beyond the tool's three default days: a week, a weekday, "the next 5 days". */
function forecastDays(clause: string): number | undefined {
  const next = /\bnext (\d) days\b/i.exec(clause);
  if (next !== null) return Math.min(7, Number(next[1]) + 1);
  if (/\b(?:this|next|the) week\b|\bweekly\b|\b7[- ]day\b/i.test(clause)) return 7;
  if (WEEKDAY_NAMES.test(clause)) return 7;
  return undefined;
}

// Only explicit search verbs search: "what is X" or "who is X" is a question, not a search.
const SEARCH_REQUEST =
  /\b(?:(?:search|serach|seach|saerch)(?:\s+(?:the\s+web|the\s+internet|online))?(?:\s+for)?|look\s+up|find\s+(?:(?:some\s+)?(?:information|info|articles|results)\s+)?(?:about|on|for)|google)\s+(.+)$/i;
const RESULT_COUNT =
  /[\s,;(]*(?:(?:only|just|give me|show me|show|return|with|top|limit(?: to)?|max(?:imum)?|at most)\s+)*(?:the\s+)?(?:top\s+|first\s+)?(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a single)\s+(?:results?|hits?|links?|matches)(?:\s+(?:only|please|max))?[\s)]*$/i;
const COUNT_WORDS: Readonly<Record<string, number>> = {
  one: 1,
  'a single': 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
};

function routeSearch(clause: string): OfflineToolCall | undefined {
  let query = SEARCH_REQUEST.exec(clause)?.[1]?.trim();
  if (query === undefined) return undefined;
  let limit: number | undefined;
  const count =
    RESULT_COUNT.exec(query) ??
    /^(?:the\s+)?(?:top|first)\s+(\d+)\s+(?:results?\s+)?(?:for|on|about)\s+/i.exec(query);
  if (count !== null) {
    const word = (count[1] ?? '').toLowerCase();
    limit = Math.min(10, Math.max(1, COUNT_WORDS[word] ?? Number(word)));
    query = query.slice(0, count.index) + query.slice(count.index + count[0].length);
  }
  query = query
    .replace(/[\s?.!,;:]+$/, '')
    .replace(/^["'“](.*)["'”]$/, '$1')
    .trim();
  if (query === '') return undefined;
  return { toolName: 'search', input: limit === undefined ? { query } : { query, limit } };
}

function textAnswer(text: string): string {
  const matches = CANNED_ANSWERS.filter((canned) => canned.keywords.test(text));
  const first = matches[0];
  if (first === undefined) return FALLBACK_ANSWER;
  if (first.kind === 'conversation') return first.answer;
  const topics = matches.filter((canned) => canned.kind === 'topic');
  return topics.map((topic) => topic.answer).join('\n\n');
}
