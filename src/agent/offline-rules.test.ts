import { describe, expect, it } from 'vitest';
import type { ModelMessage } from './model.js';
import { decideForUserText, decideOfflineReply } from './offline-rules.js';

function toolResult(toolName: string, output: unknown, isError = false): ModelMessage {
  return { role: 'tool', toolCallId: 'call_1_0', toolName, output, isError };
}

function summarise(...results: ModelMessage[]): string {
  const decision = decideOfflineReply([
    { role: 'user', content: 'anything', userId: 'alice' },
    { role: 'assistant', content: '', toolCalls: [] },
    ...results,
  ]);
  if (decision.type !== 'text') throw new Error('expected a text answer after tool results');
  return decision.text;
}

function textAnswer(prompt: string): string {
  const decision = decideForUserText(prompt);
  if (decision.type !== 'text') throw new Error(`expected a text answer for ${prompt}`);
  return decision.text;
}

describe('decideForUserText', () => {
  it.each([
    ['What is 5 + 3?', '5 + 3'],
    ['calculate (5 + 3) * 2 ^ 3', '(5 + 3) * 2 ^ 3'],
    ["what's 12 divided by 4", '12 / 4'],
    ['7 times 6', '7 * 6'],
    ['square root of 16', 'sqrt(16)'],
    ['what is the square root of (9 + 7) * 2?', 'sqrt(9 + 7) * 2'],
    ['2 to the power of 10', '2 ^ 10'],
    ['10 mod 3', '10 % 3'],
    ['what is 5 squared', '5 ^ 2'],
    ['3 x 4', '3 * 4'],
    ['what is 1,000 minus -5.5?', '1000 - -5.5'],
    ['2**8', '2 ^ 8'],
  ])('sends "%s" to the calculator as %j', (prompt, expression) => {
    expect(decideForUserText(prompt)).toEqual({
      type: 'tool-calls',
      toolCalls: [{ toolName: 'calculator', input: { operation: 'evaluate', expression } }],
    });
  });

  it.each([
    ['weather in Paris', { location: 'Paris' }],
    ["what's the weather like in new york tomorrow", { location: 'New York' }],
    ['is it raining in London?', { location: 'London' }],
    ['weather in Paris in fahrenheit', { location: 'Paris', units: 'imperial' }],
    ['forecast for rio de janeiro', { location: 'Rio de Janeiro' }],
  ])('sends "%s" to the weather tool as %j', (prompt, input) => {
    expect(decideForUserText(prompt)).toEqual({
      type: 'tool-calls',
      toolCalls: [{ toolName: 'weather', input }],
    });
  });

  it.each([
    ['what time is it', 'UTC'],
    ['current time in Tokyo', 'Asia/Tokyo'],
    ["what's the date", 'UTC'],
    ['what time is it in new york right now?', 'America/New_York'],
    ['time zone for India', 'Asia/Kolkata'],
    ['what is the time in Los Angeles', 'America/Los_Angeles'],
    ['Berlin time now', 'Europe/Berlin'],
    ['local time in Europe/Madrid', 'Europe/Madrid'],
  ])('sends "%s" to the datetime tool in %s', (prompt, timezone) => {
    expect(decideForUserText(prompt)).toEqual({
      type: 'tool-calls',
      toolCalls: [{ toolName: 'datetime', input: { operation: 'now', timezone } }],
    });
  });

  it.each([
    ['search for WebSocket close codes', 'WebSocket close codes'],
    ['look up Rob Pike.', 'Rob Pike'],
    ['find information about goroutines', 'goroutines'],
    ['search for salt and pepper', 'salt and pepper'],
  ])('sends "%s" to the search tool as %j', (prompt, query) => {
    expect(decideForUserText(prompt)).toEqual({
      type: 'tool-calls',
      toolCalls: [{ toolName: 'search', input: { query } }],
    });
  });

  it.each([
    [
      'what day is 30 days from 2026-01-01',
      { operation: 'add', datetime: '2026-01-01', amount: 30, unit: 'days' },
    ],
    [
      'how many days between 2026-01-01 and 2026-03-01',
      { operation: 'diff', datetime: '2026-01-01', other: '2026-03-01' },
    ],
    [
      'format 2026-01-01 as fr-FR',
      { operation: 'format', datetime: '2026-01-01', locale: 'fr-FR' },
    ],
    [
      'parse 2026-01-15T10:30:00+02:00',
      { operation: 'parse', datetime: '2026-01-15T10:30:00+02:00' },
    ],
  ])(
    'sends the date in "%s" to the datetime tool, never the calculator (regression)',
    (prompt, input) => {
      expect(decideForUserText(prompt)).toEqual({
        type: 'tool-calls',
        toolCalls: [{ toolName: 'datetime', input }],
      });
    },
  );

  it.each([
    ['add 4 and 5', { operation: 'add', a: 4, b: 5 }],
    ['subtract 9 from 20', { operation: 'subtract', a: 20, b: 9 }],
    ['multiply 6 by 7', { operation: 'multiply', a: 6, b: 7 }],
    ['divide 10 by 4', { operation: 'divide', a: 10, b: 4 }],
    ['what is 15% of 200', { operation: 'evaluate', expression: '15 / 100 * 200' }],
    ['twelve times seven', { operation: 'evaluate', expression: '12 * 7' }],
  ])('sends "%s" to the calculator as %j (regression: these got the fallback)', (prompt, input) => {
    expect(decideForUserText(prompt)).toEqual({
      type: 'tool-calls',
      toolCalls: [{ toolName: 'calculator', input }],
    });
  });

  it('asks the search tool for the number of results requested, outside the query', () => {
    expect(decideForUserText('search for websocket, 1 result only')).toEqual({
      type: 'tool-calls',
      toolCalls: [{ toolName: 'search', input: { query: 'websocket', limit: 1 } }],
    });
  });

  it('calls several tools in the order the message asks for them', () => {
    expect(
      decideForUserText('weather in Paris and what time is it in Tokyo, then search for cafes'),
    ).toEqual({
      type: 'tool-calls',
      toolCalls: [
        { toolName: 'weather', input: { location: 'Paris' } },
        { toolName: 'datetime', input: { operation: 'now', timezone: 'Asia/Tokyo' } },
        { toolName: 'search', input: { query: 'cafes' } },
      ],
    });
  });

  it('does not call the same tool twice with the same input', () => {
    expect(decideForUserText('weather in Paris? weather in Paris!')).toEqual({
      type: 'tool-calls',
      toolCalls: [{ toolName: 'weather', input: { location: 'Paris' } }],
    });
  });

  it('treats "who is" and "what is" questions as questions, not searches', () => {
    expect(decideForUserText('who is Ada Lovelace?').type).toBe('text');
    expect(decideForUserText('what is a cold start in Lambda?').type).toBe('text');
  });

  it('asks for a place when the weather question has none', () => {
    expect(textAnswer("what's the weather?")).toBe('Which city should I check the weather for?');
  });

  it('knows the zone of every zone city, such as Madrid (regression: only twenty cities)', () => {
    expect(decideForUserText('what time is it in Madrid?')).toEqual({
      type: 'tool-calls',
      toolCalls: [{ toolName: 'datetime', input: { operation: 'now', timezone: 'Europe/Madrid' } }],
    });
  });

  it('says so when it does not know the time zone of a place, naming close matches', () => {
    expect(textAnswer('what time is it in Tokioo?')).toBe(
      "I don't know the time zone of Tokioo. Did you mean Tokyo?",
    );
    expect(textAnswer('what time is it in Narnia?')).toMatch(
      /^I don't know the time zone of Narnia\. Try a city such as .*Europe\/Madrid/,
    );
  });

  it('greets back and says what it can do', () => {
    for (const greeting of ['hi', 'Hello!', 'hey there', 'Good morning']) {
      expect(textAnswer(greeting)).toMatch(/^Hello! .*calculations.*weather.*time.*search/);
    }
  });

  it('lists what it can do when asked for help', () => {
    for (const prompt of ['help', 'what can you do?']) {
      const answer = textAnswer(prompt);
      for (const skill of ['calculations', 'weather', 'time zones', 'offline index', 'AI agents']) {
        expect(answer).toContain(skill);
      }
    }
  });

  it('says you are welcome to thanks', () => {
    expect(textAnswer('thanks!')).toMatch(/^You're welcome!/);
  });

  it.each([
    ['what is Go?', /^Go is a statically typed.*goroutines.*channels/s],
    ['explain goroutines', /^Go is a statically typed/],
    ['how does concurrency work?', /^Concurrency means .*parallelism/],
    ['tell me about websockets', /^WebSocket \(RFC 6455\) .*101 Switching Protocols/],
    ['what is an AI agent?', /^An AI agent is a language model run in a loop with tools/],
  ])('explains the topic of "%s"', (prompt, answer) => {
    expect(textAnswer(prompt)).toMatch(answer);
  });

  it('explains every topic a message asks about', () => {
    expect(textAnswer('compare WebSocket and AI agents')).toMatch(
      /^WebSocket \(RFC 6455\).*\n\nAn AI agent/s,
    );
  });

  it('explains a topic rather than only thanking when both are asked', () => {
    expect(textAnswer('thanks, and what is Go?')).toMatch(/^Go is/);
  });

  it('says honestly that it cannot help with anything else', () => {
    for (const prompt of ['write me a poem', 'I want to go home', 'the year 2024', '']) {
      expect(textAnswer(prompt)).toMatch(/^I'm an offline, rule-based model, so I can't help/);
    }
  });
});

describe('decideOfflineReply', () => {
  it('ignores earlier user messages', () => {
    const decision = decideOfflineReply([
      { role: 'user', content: 'weather in Paris', userId: 'alice' },
      { role: 'assistant', content: 'It is sunny.' },
      { role: 'user', content: 'hello', userId: 'bob' },
    ]);
    expect(decision).toEqual({ type: 'text', text: textAnswer('hello') });
  });

  it('introduces itself when there is no user message', () => {
    const decision = decideOfflineReply([{ role: 'system', content: 'Be brief.' }]);
    expect(decision).toEqual({ type: 'text', text: textAnswer('hello') });
  });

  it('states a weather result in Fahrenheit for imperial units', () => {
    const output = {
      location: 'New York',
      temperature: 64.4,
      units: 'imperial',
      condition: 'Light rain',
      humidity: 81,
      wind_kph: 9,
      source: 'offline',
    };
    expect(summarise(toolResult('weather', output))).toBe(
      'In New York it is 64.4°F and light rain, with 81% humidity and wind at 9 km/h.',
    );
  });

  it('lists search results with title, snippet and address', () => {
    const output = {
      query: 'websocket',
      source: 'offline',
      results: [
        {
          title: 'RFC 6455',
          url: 'https://example.com/rfc6455',
          snippet: 'The WebSocket Protocol',
        },
        { title: 'MDN', url: 'https://example.com/mdn', snippet: 'WebSocket API' },
      ],
    };
    expect(summarise(toolResult('search', output))).toBe(
      [
        'Here is what I found for "websocket":',
        '1. RFC 6455 — The WebSocket Protocol (https://example.com/rfc6455)',
        '2. MDN — WebSocket API (https://example.com/mdn)',
      ].join('\n'),
    );
  });

  it('says when a search found nothing', () => {
    const output = { query: 'zebra fish', results: [], source: 'offline' };
    expect(summarise(toolResult('search', output))).toBe('I found nothing for "zebra fish".');
  });

  it('states the date and time with the zone and its UTC offset', () => {
    const output = {
      iso: '2026-11-23T05:05:09.000Z',
      timezone: 'Asia/Tokyo',
      local: '2026-11-23 14:05:09',
      weekday: 'Monday',
      utc_offset: '+09:00',
    };
    expect(summarise(toolResult('datetime', output))).toBe(
      'It is Monday 2026-11-23 14:05:09 in Asia/Tokyo (UTC+09:00).',
    );
  });

  it('hides floating-point noise in calculator results', () => {
    const output = { expression: '0.1 + 0.2', result: 0.30000000000000004 };
    expect(summarise(toolResult('calculator', output))).toBe('0.1 + 0.2 = 0.3.');
  });

  it('shows the raw output of a tool it does not know', () => {
    expect(summarise(toolResult('dice', { rolled: 4 }))).toBe(
      'The dice tool returned {"rolled":4}.',
    );
  });

  it('reports a tool error with its message', () => {
    const error = { error: { code: 'tool_failed', message: 'Unknown location: Atlantis.' } };
    expect(summarise(toolResult('weather', error, true))).toBe(
      "I couldn't get the weather: Unknown location: Atlantis.",
    );
  });
});
