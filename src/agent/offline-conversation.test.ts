import { describe, expect, it } from 'vitest';
import type { ModelMessage } from './model.js';
import {
  answerAboutConversation,
  followUpSubject,
  readConversation,
} from './offline-conversation.js';

const user = (content: string, userId = 'alice'): ModelMessage => ({
  role: 'user',
  content,
  userId,
});
const assistant = (content: string): ModelMessage => ({ role: 'assistant', content });

describe('readConversation', () => {
  it('reads the last result from the previous answer', () => {
    const memory = readConversation([
      user('What is 5 + 3?'),
      assistant('5 + 3 = 8.'),
      user('double it'),
    ]);
    expect(memory.previousResult).toBe(8);
    expect(memory.earlierQuestions).toEqual(['What is 5 + 3?']);
    expect(memory.previousQuestion).toBe('What is 5 + 3?');
  });

  it('reads the last result from a calculator tool message inside a turn', () => {
    const memory = readConversation([
      user('What is 6 * 7?'),
      { role: 'assistant', content: '', toolCalls: [] },
      {
        role: 'tool',
        toolCallId: 'c',
        toolName: 'calculator',
        output: { expression: '6 * 7', result: 42 },
        isError: false,
      },
      user('and times 2'),
    ]);
    expect(memory.previousResult).toBe(42);
  });

  it('forgets the result once a later answer is not a calculation', () => {
    const memory = readConversation([
      user('What is 5 + 3?'),
      assistant('5 + 3 = 8.'),
      user('hello'),
      assistant('Hello!'),
      user('double it'),
    ]);
    expect(memory.previousResult).toBeUndefined();
  });

  it("remembers the name each user gave, not another participant's", () => {
    const messages = [
      user('my name is alice smith'),
      assistant('Nice to meet you'),
      user('call me Bob', 'bob'),
    ];
    expect(readConversation([...messages, user("what's my name?")]).name).toBe('Alice Smith');
    expect(readConversation([...messages, user("what's my name?", 'bob')]).name).toBe('Bob');
    expect(readConversation([...messages, user("what's my name?", 'carol')]).name).toBeUndefined();
  });
});

describe('answerAboutConversation', () => {
  it('answers what was asked before, first and last', () => {
    const memory = readConversation([
      user('weather in Paris'),
      assistant('In Paris it is 5°C.'),
      user('What is 5 + 3?'),
      assistant('5 + 3 = 8.'),
      user('what did I ask before?'),
    ]);
    expect(answerAboutConversation('what did I ask before?', memory)).toBe(
      'You asked: "What is 5 + 3?"',
    );
    expect(answerAboutConversation('what was my first question', memory)).toBe(
      'Your first question was: "weather in Paris"',
    );
    expect(answerAboutConversation('what did we talk about', memory)).toBe(
      'Your last 2 messages were:\n1. weather in Paris\n2. What is 5 + 3?',
    );
  });

  it('says the signed-in user id when no name was given', () => {
    const memory = readConversation([user('who am i?', 'u42')]);
    expect(answerAboutConversation('who am i?', memory)).toMatch(
      /^You haven't told me your name yet; you are signed in as u42\./,
    );
  });

  it('leaves other messages alone', () => {
    expect(
      answerAboutConversation('what is 5 + 3', readConversation([user('what is 5 + 3')])),
    ).toBeUndefined();
  });
});

describe('followUpSubject', () => {
  it.each([
    ['and in Tokyo?', 'Tokyo'],
    ['what about tomorrow?', 'tomorrow'],
    ['how about Paris', 'Paris'],
    ['and Rome', 'Rome'],
  ])('reads %j as a follow-up about %j', (text, subject) => {
    expect(followUpSubject(text)).toBe(subject);
  });

  it('is not fooled by a whole question', () => {
    expect(followUpSubject('what is 5 + 3')).toBeUndefined();
  });
});
