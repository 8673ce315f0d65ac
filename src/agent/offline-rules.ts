/**
 * The offline model's rules: after tool results it summarises them; otherwise the most recent user
 * message decides between tool calls (calculation, weather, time, search) and a text answer.
 */
import type { ModelMessage } from './model.js';
import {
  CANNED_ANSWERS,
  FALLBACK_ANSWER,
  NAME_PARTICLES,
  NOT_PLACE_WORDS,
  TIME_ZONES,
  describeToolResult,
  type ToolResultMessage,
} from './offline-knowledge.js';

/** A tool call the offline model decided to make; the model gives it its id. */
export interface OfflineToolCall {
  toolName: 'calculator' | 'weather' | 'datetime' | 'search';
  input: Record<string, string>;
}

/** What the offline model answers in one step: tool calls, or text. */
export type OfflineDecision =
  { type: 'tool-calls'; toolCalls: OfflineToolCall[] } | { type: 'text'; text: string };

/**
 * Decides the offline model's next step from the conversation. Tool results at the end are
 * summarised in text (so the agent loop ends); otherwise only the most recent user message counts.
 *
 * @example
 * decideOfflineReply([{ role: 'user', content: 'What is 5 + 3?', userId: 'u1' }]);
 * // { type: 'tool-calls', toolCalls: [{ toolName: 'calculator', input: { operation: 'evaluate', expression: '5 + 3' } }] }
 */
export function decideOfflineReply(messages: readonly ModelMessage[]): OfflineDecision {
  const toolResults = trailingToolResults(messages);
  if (toolResults.length > 0) {
    const sentences = toolResults.map(describeToolResult);
    const separator = sentences.some((sentence) => sentence.includes('\n')) ? '\n\n' : ' ';
    return { type: 'text', text: sentences.join(separator) };
  }
  const lastUserMessage = messages.findLast((message) => message.role === 'user');
  // With no user message yet (a system prompt alone) the model introduces itself.
  return decideForUserText(lastUserMessage?.content ?? 'hello');
}

/** Decides the answer to one user message: tool calls when it asks for any, text otherwise. */
export function decideForUserText(text: string): OfflineDecision {
  const toolCalls: OfflineToolCall[] = [];
  const notes: string[] = [];
  for (const clause of text.split(CLAUSE_BOUNDARY)) {
    const outcome = routeClause(clause.trim());
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
function routeClause(clause: string): OfflineToolCall | string | undefined {
  if (clause === '') return undefined;
  const expression = findExpression(clause);
  if (expression !== undefined) {
    return { toolName: 'calculator', input: { operation: 'evaluate', expression } };
  }
  return routeWeather(clause) ?? routeTime(clause) ?? routeSearch(clause);
}

const STRONG_WEATHER = /\b(?:weather|forecast|temperature)\b/i;
// "cold" alone is not weather ("a cold start in Lambda"), so weak words need "is it" and a place.
const WEAK_WEATHER =
  /\b(?:is|will) it (?:be )?(?:rain(?:ing|y)?|snow(?:ing|y)?|sunny|cloudy|windy|humid|hot|cold|warm)\b|\b(?:raining|snowing)\b/i;

function routeWeather(clause: string): OfflineToolCall | string | undefined {
  const strong = STRONG_WEATHER.test(clause);
  if (!strong && !WEAK_WEATHER.test(clause)) return undefined;
  const location = findPlace(clause);
  if (location === undefined) {
    return strong ? 'Which city should I check the weather for?' : undefined;
  }
  const input: Record<string, string> = { location };
  if (/fahrenheit|imperial|°\s*f\b/i.test(clause)) input['units'] = 'imperial';
  return { toolName: 'weather', input };
}

const TIME_QUESTION =
  /\b(?:what time|the time|current time|local time|time (?:is it )?(?:in|now)|time ?zone|(?:what's|whats|what is) the date|today's date|date today|the date|what day is (?:it|today))\b/i;
const IANA_ZONE = /\b[A-Z][A-Za-z_]+\/[A-Za-z_]+(?:\/[A-Za-z_]+)?\b/;

function routeTime(clause: string): OfflineToolCall | string | undefined {
  if (!TIME_QUESTION.test(clause)) return undefined;
  const place = findPlace(clause);
  const timezone =
    IANA_ZONE.exec(clause)?.[0] ??
    (place === undefined ? undefined : TIME_ZONES[place.toLowerCase()]) ??
    Object.entries(TIME_ZONES).find(([name]) => new RegExp(`\\b${name}\\b`, 'i').test(clause))?.[1];
  if (timezone === undefined && place !== undefined) {
    return `I don't know the time zone of ${place}. Try a city such as Tokyo, London or New York, or an IANA zone name such as Europe/Madrid.`;
  }
  return { toolName: 'datetime', input: { operation: 'now', timezone: timezone ?? 'UTC' } };
}

// Only explicit search verbs search: "what is X" or "who is X" is a question, not a search.
const SEARCH_REQUEST =
  /\b(?:search(?:\s+(?:the\s+web|the\s+internet|online))?(?:\s+for)?|look\s+up|find\s+(?:(?:some\s+)?(?:information|info|articles|results)\s+)?(?:about|on|for)|google)\s+(.+)$/i;

function routeSearch(clause: string): OfflineToolCall | undefined {
  const query = SEARCH_REQUEST.exec(clause)?.[1]
    ?.replace(/[\s?.!,;:]+$/, '')
    .replace(/^["'“](.*)["'”]$/, '$1')
    .trim();
  return query ? { toolName: 'search', input: { query } } : undefined;
}

/** The place after "in", "for" or "at", title-cased as written, without trailing punctuation. */
function findPlace(clause: string): string | undefined {
  for (const match of clause.matchAll(/\b(?:in|for|at)\s+([^?!.,;:]+)/gi)) {
    const words: string[] = [];
    for (const word of (match[1] ?? '').split(/\s+/)) {
      if (NOT_PLACE_WORDS.has(word.toLowerCase()) || !/^\p{L}[\p{L}'-]*$/u.test(word)) break;
      words.push(word);
    }
    if (words.length > 0) return words.slice(0, 4).map(titleCaseWord).join(' ');
  }
  return undefined;
}

function titleCaseWord(word: string, index: number): string {
  if (index > 0 && NAME_PARTICLES.has(word)) return word;
  return word.charAt(0).toUpperCase() + word.slice(1);
}

type Token =
  { kind: 'number' | 'operator'; text: string } | { kind: 'open' | 'close' | 'sqrt' | 'other' };

const operator = (text: string): Token => ({ kind: 'operator', text });
const number = (text: string): Token => ({ kind: 'number', text });

// Spoken arithmetic and symbols, matched at the start of the lower-cased rest of the text; longer
// phrases come first so that "**" is a power and not two multiplications.
const ARITHMETIC_TOKENS: readonly (readonly [RegExp, readonly Token[]])[] = [
  [/^(?:the\s+)?square\s+root\s+of\b|^sqrt\b|^√/, [{ kind: 'sqrt' }]],
  [/^(?:raised\s+)?to\s+the\s+power\s+of\b|^\*\*|^\^/, [operator('^')]],
  [/^divided\s+by\b|^[/÷]/, [operator('/')]],
  [/^(?:multiplied\s+by|times)\b|^[*×]|^x(?=\s*[\d(.])/, [operator('*')]],
  [/^plus\b|^\+/, [operator('+')]],
  [/^minus\b|^[-−]/, [operator('-')]],
  [/^(?:mod|modulo)\b|^%/, [operator('%')]],
  [/^squared\b/, [operator('^'), number('2')]],
  [/^cubed\b/, [operator('^'), number('3')]],
  [/^\(/, [{ kind: 'open' }]],
  [/^\)/, [{ kind: 'close' }]],
];
// Thousands separators are accepted ("1,000"), so a comma only ends a number before 1–2 digits.
const NUMBER = /^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|^\.\d+/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let rest = text.toLowerCase().trimStart();
  while (rest !== '') {
    const [matched, produced] = nextToken(rest);
    tokens.push(...produced);
    rest = rest.slice(matched.length).trimStart();
  }
  return tokens;
}

function nextToken(rest: string): readonly [string, readonly Token[]] {
  const digits = NUMBER.exec(rest)?.[0];
  if (digits !== undefined) return [digits, [number(digits.replaceAll(',', ''))]];
  for (const [pattern, produced] of ARITHMETIC_TOKENS) {
    const matched = pattern.exec(rest)?.[0];
    if (matched !== undefined) return [matched, produced];
  }
  return [/^[\p{L}']+|^\S/u.exec(rest)?.[0] ?? rest, [{ kind: 'other' }]];
}

/** A parsed expression: where it ends, how the calculator reads it, and how many operations it has. */
type Parsed = { end: number; text: string; operators: number };

/** The first arithmetic expression with at least one operation, written as the calculator reads it. */
function findExpression(clause: string): string | undefined {
  const tokens = tokenize(clause);
  for (let start = 0; start < tokens.length; start += 1) {
    const parsed = parseExpression(tokens, start);
    if (parsed !== undefined && parsed.operators > 0) return parsed.text;
  }
  return undefined;
}

function parseExpression(tokens: readonly Token[], start: number): Parsed | undefined {
  const first = parseTerm(tokens, start);
  if (first === undefined) return undefined;
  let { end, text, operators } = first;
  for (;;) {
    const token = tokens[end];
    // An operator with nothing valid after it ("5 + apples") is left out rather than failing.
    const next = token?.kind === 'operator' ? parseTerm(tokens, end + 1) : undefined;
    if (token?.kind !== 'operator' || next === undefined) return { end, text, operators };
    text = `${text} ${token.text} ${next.text}`;
    end = next.end;
    operators += 1 + next.operators;
  }
}

function parseTerm(tokens: readonly Token[], start: number): Parsed | undefined {
  const token = tokens[start];
  switch (token?.kind) {
    case 'number':
      return { end: start + 1, text: token.text, operators: 0 };
    case 'operator': {
      const operand = token.text === '-' ? parseTerm(tokens, start + 1) : undefined;
      return operand && { ...operand, text: `-${operand.text}` };
    }
    case 'open': {
      const inner = parseExpression(tokens, start + 1);
      if (inner === undefined || tokens[inner.end]?.kind !== 'close') return undefined;
      return { end: inner.end + 1, text: `(${inner.text})`, operators: inner.operators };
    }
    case 'sqrt': {
      const operand = parseTerm(tokens, start + 1);
      if (operand === undefined) return undefined;
      const grouped = tokens[start + 1]?.kind === 'open' ? operand.text : `(${operand.text})`;
      return { end: operand.end, text: `sqrt${grouped}`, operators: operand.operators + 1 };
    }
    case 'close':
    case 'other':
    case undefined:
      return undefined;
  }
}

function textAnswer(text: string): string {
  const matches = CANNED_ANSWERS.filter((canned) => canned.keywords.test(text));
  const first = matches[0];
  if (first === undefined) return FALLBACK_ANSWER;
  if (first.kind === 'conversation') return first.answer;
  const topics = matches.filter((canned) => canned.kind === 'topic');
  return topics.map((topic) => topic.answer).join('\n\n');
}
