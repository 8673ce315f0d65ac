/**
 * What the offline model remembers of a conversation: it reads the whole of `request.messages`
 * for the user's name, their earlier questions, the last result ("multiply that by 2") and the
 * subject of the previous question ("and in Tokyo?", "what about tomorrow?").
 */
import type { ModelMessage } from './model.js';

type UserMessage = Extract<ModelMessage, { role: 'user' }>;

/** What the rules need to know of the conversation before the message being answered. */
export interface ConversationMemory {
  /** The message being answered. */
  current: UserMessage | undefined;
  /** Earlier messages of the same user, oldest first. */
  earlierQuestions: string[];
  /** The last number the assistant gave as a result ("5 + 3 = 8." → 8). */
  previousResult: number | undefined;
  /** The user's name, if they said it ("my name is Alice"). */
  name: string | undefined;
  /** The previous user message of anyone, for follow-ups. */
  previousQuestion: string | undefined;
}

const NAME_STATEMENT =
  /\b(?:my name is|my name's|i am called|i'm called|call me|name's)\s+([\p{Lu}\p{Ll}][\p{L}'’-]*(?:\s+[\p{Lu}][\p{L}'’-]*)?)/iu;

/** Reads the conversation: the last user message is the one being answered. */
export function readConversation(messages: readonly ModelMessage[]): ConversationMemory {
  const users = messages.filter((message): message is UserMessage => message.role === 'user');
  const current = users.at(-1);
  const earlier = users.slice(0, -1);
  const mine = earlier.filter((message) => message.userId === current?.userId);
  let name: string | undefined;
  for (const message of mine) name = NAME_STATEMENT.exec(message.content)?.[1] ?? name;
  const lastIndex = current === undefined ? messages.length : messages.lastIndexOf(current);
  return {
    current,
    earlierQuestions: mine.map((message) => message.content),
    previousResult: lastResult(messages.slice(0, lastIndex)),
    name: name === undefined ? undefined : capitalise(name),
    previousQuestion: earlier.at(-1)?.content,
  };
}

function lastResult(messages: readonly ModelMessage[]): number | undefined {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message?.role === 'tool' && message.toolName === 'calculator' && !message.isError) {
      const output = message.output as { result?: unknown } | undefined;
      if (typeof output?.result === 'number') return output.result;
    }
    if (message?.role === 'assistant') {
      const match = /=\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\.?\s*$/i.exec(message.content.trim());
      if (match !== null) return Number(match[1]);
      if (message.content.trim() !== '') return undefined;
    }
  }
  return undefined;
}

function capitalise(name: string): string {
  return name
    .split(/\s+/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

/**
 * A text answer about the conversation itself, or nothing: being told a name, being asked for it,
 * and being asked what was asked before.
 *
 * @example
 * answerAboutConversation('my name is alice', memory); // 'Nice to meet you, Alice! …'
 */
export function answerAboutConversation(
  text: string,
  memory: ConversationMemory,
): string | undefined {
  const told = NAME_STATEMENT.exec(text)?.[1];
  if (told !== undefined && !/\?\s*$/.test(text)) {
    return `Nice to meet you, ${capitalise(told)}! I'll remember your name in this conversation. Ask me a calculation, the weather, the time somewhere, or a search.`;
  }
  if (
    /\b(?:what(?:'s| is)|whats|do you (?:know|remember)|tell me|say)\s+my name\b|\bwho am i\b/i.test(
      text,
    )
  ) {
    if (memory.name !== undefined) return `Your name is ${memory.name}.`;
    const id = memory.current?.userId;
    return `You haven't told me your name yet${id === undefined ? '' : `; you are signed in as ${id}`}. Say "my name is …" and I'll remember it.`;
  }
  if (
    /\bwhat (?:did|have) (?:i|we) (?:ask|asked|say|said|talk(?:ed)? about)\b|\b(?:my|the) (?:last|previous|first|earlier) (?:question|message)\b|\bwhat was my (?:last |previous )?question\b/i.test(
      text,
    )
  ) {
    const questions = memory.earlierQuestions;
    if (questions.length === 0)
      return "This is your first message in this conversation, so there's nothing before it.";
    if (/\bfirst\b/i.test(text)) return `Your first question was: "${questions[0] ?? ''}"`;
    if (/\b(?:we|all|everything)\b/i.test(text) && questions.length > 1) {
      const recent = questions.slice(-5).map((question, index) => `${index + 1}. ${question}`);
      return [`Your last ${recent.length} messages were:`, ...recent].join('\n');
    }
    return `You asked: "${questions.at(-1) ?? ''}"`;
  }
  return undefined;
}

/**
 * "and in Tokyo?", "what about Paris", "how about tomorrow?": the previous question asked again
 * about something else, or nothing when the message is not such a follow-up.
 */
export function followUpSubject(text: string): string | undefined {
  const match =
    /^\s*(?:and|&)?\s*(?:what|how)\s+about\s+(.+?)[?.!\s]*$|^\s*(?:and|&)\s+(?:in|for|at)?\s*(.+?)[?.!\s]*$/i.exec(
      text,
    );
  const subject = match?.[1] ?? match?.[2];
  return subject === undefined || subject.trim() === '' ? undefined : subject.trim();
}
