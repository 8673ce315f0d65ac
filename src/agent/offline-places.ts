/**
 * Finding the places a message names: after "in", "for", "at" (and "from", "to" when converting),
 * before "time" ("Tokyo time"), or an IANA zone name; each resolved through the gazetteer of
 * src/tools/places.ts, so "sao paulo", "Beijing" or "Zurich" find their zone.
 */
import { findPlace, suggestPlaces, type Place } from '../tools/places.js';
import { NAME_PARTICLES, NOT_PLACE_WORDS } from './offline-knowledge.js';

/** A place named in a message: as written (title-cased), and the known place, if any. */
export interface PlaceMention {
  text: string;
  place: Place | undefined;
  /** Where in the clause the mention starts, to keep several in order. */
  index: number;
}

/** Zone abbreviations people write after a time ("9am EST"); only for time questions. */
const ZONE_ABBREVIATIONS: Readonly<Record<string, string>> = {
  utc: 'UTC',
  gmt: 'UTC',
  est: 'America/New_York',
  edt: 'America/New_York',
  eastern: 'America/New_York',
  cst: 'America/Chicago',
  cdt: 'America/Chicago',
  central: 'America/Chicago',
  mst: 'America/Denver',
  mdt: 'America/Denver',
  mountain: 'America/Denver',
  pst: 'America/Los_Angeles',
  pdt: 'America/Los_Angeles',
  pacific: 'America/Los_Angeles',
  bst: 'Europe/London',
  cet: 'Europe/Paris',
  cest: 'Europe/Paris',
  eet: 'Europe/Athens',
  ist: 'Asia/Kolkata',
  jst: 'Asia/Tokyo',
  kst: 'Asia/Seoul',
  hkt: 'Asia/Hong_Kong',
  sgt: 'Asia/Singapore',
  aest: 'Australia/Sydney',
  aedt: 'Australia/Sydney',
};

const IANA_ZONE = /\b[A-Z][A-Za-z_]+\/[A-Za-z_]+(?:\/[A-Za-z_]+)?\b/g;
const PLACE_WORD = /^\p{L}[\p{L}'’.-]*$/u;

/**
 * Every place the clause names after one of `prepositions`, in order. Of the words that follow,
 * the longest run (up to five) that the gazetteer knows wins: "in Paris France" is Paris; an
 * unknown name is kept, title-cased, so the answer can say it does not know it.
 */
export function findPlaceMentions(
  clause: string,
  prepositions: readonly string[] = ['in', 'for', 'at'],
): PlaceMention[] {
  const mentions: PlaceMention[] = [];
  // Each preposition starts a search of its own, so "from New York to Tokyo" finds both places.
  const pattern = new RegExp(String.raw`\b(?:${prepositions.join('|')})\s+`, 'gi');
  for (const match of clause.matchAll(pattern)) {
    const index = match.index + match[0].length;
    // "in the UK", "for the Netherlands": a leading "the" belongs to the name, not the sentence.
    const rest = (/^[^?!,;:]+/.exec(clause.slice(index))?.[0] ?? '').replace(/^the\s+/i, '');
    const words: string[] = [];
    for (const word of rest.split(/\s+/)) {
      const bare = word.replace(/[.]+$/, (dots) => (/^(?:\p{L}\.)+$/u.test(word) ? dots : ''));
      if (bare === '' || NOT_PLACE_WORDS.has(bare.toLowerCase()) || !PLACE_WORD.test(bare)) break;
      words.push(bare);
      if (bare !== word) break;
    }
    const mention = resolveWords(words.slice(0, 5), index);
    if (mention !== undefined) mentions.push(mention);
  }
  return mentions;
}

function resolveWords(words: readonly string[], index: number): PlaceMention | undefined {
  for (let length = words.length; length > 0; length -= 1) {
    const text = words.slice(0, length).join(' ');
    const place = findPlace(text);
    if (place !== undefined) return { text, place, index };
  }
  if (words.length === 0) return undefined;
  return { text: words.slice(0, 4).map(titleCaseWord).join(' '), place: undefined, index };
}

function titleCaseWord(word: string, index: number): string {
  if (index > 0 && NAME_PARTICLES.has(word)) return word;
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** The time zones a time question names, in order: places, "X time", zone names, abbreviations. */
export function findZoneMentions(
  clause: string,
  prepositions: readonly string[] = ['in', 'for', 'at'],
): PlaceMention[] {
  const mentions = findPlaceMentions(clause, prepositions).filter(
    (mention) => mention.place !== undefined || abbreviationZone(mention.text) === undefined,
  );
  for (const match of clause.matchAll(IANA_ZONE)) {
    const place = findPlace(match[0]);
    if (place !== undefined && !mentions.some((known) => known.index === match.index)) {
      mentions.push({
        text: match[0],
        place: { ...place, zone: canonicalZoneName(match[0], place) },
        index: match.index,
      });
    }
  }
  const abbreviations =
    /\b(?:(utc|gmt)|([A-Z]{3,4})|(eastern|central|mountain|pacific)(?=\s+(?:standard\s+|daylight\s+)?time))\b/gi;
  for (const match of clause.matchAll(abbreviations)) {
    // Only capitals make "EST" an abbreviation; "est" or "ist" could be any word.
    const upper =
      match[2] !== undefined && match[2] === match[2].toUpperCase() ? match[2] : undefined;
    const zone = abbreviationZone(match[1] ?? match[3] ?? upper ?? '');
    if (zone !== undefined)
      mentions.push({ text: match[0], place: zoneOnlyPlace(zone), index: match.index });
  }
  // "Tokyo time", "berlin local time": the words just before "time".
  for (const match of clause.matchAll(/((?:\p{L}[\p{L}'’-]*\s+){1,3})(?:local\s+)?time\b/giu)) {
    const words = (match[1] ?? '').trim().split(/\s+/);
    for (let start = 0; start < words.length; start += 1) {
      const text = words.slice(start).join(' ');
      const place = NOT_PLACE_WORDS.has(words[start]?.toLowerCase() ?? '')
        ? undefined
        : findPlace(text);
      if (place === undefined || text.length < 3) continue;
      const index = match.index + match[0].indexOf(text);
      if (!mentions.some((known) => known.place?.zone === place.zone))
        mentions.push({ text, place, index });
      break;
    }
  }
  return mentions
    .filter(
      (mention, position, all) =>
        all.findIndex((other) => other.index === mention.index) === position,
    )
    .sort((left, right) => left.index - right.index);
}

function abbreviationZone(text: string): string | undefined {
  return ZONE_ABBREVIATIONS[text.toLowerCase()];
}

function zoneOnlyPlace(zone: string): Place {
  return {
    name: zone,
    kind: 'city',
    country: undefined,
    zone,
    zoneCount: 1,
    latitude: undefined,
    climate: undefined,
  };
}

/** A zone written out keeps its own spelling ("Asia/Calcutta" stays), as the user asked for it. */
function canonicalZoneName(written: string, place: Place): string {
  return written.toLowerCase() === place.zone.toLowerCase() ? place.zone : written;
}

/** "I don't know X" with the closest names, for a place the gazetteer does not know. */
export function unknownPlaceNote(text: string, what: string): string {
  const close = suggestPlaces(text);
  const hint =
    close.length > 0
      ? `Did you mean ${close.slice(0, -1).join(', ')}${close.length > 1 ? ' or ' : ''}${close.at(-1) ?? ''}?`
      : 'Try a city such as Tokyo, São Paulo or New York, or an IANA zone name such as Europe/Madrid.';
  return `I don't know ${what} of ${text}. ${hint}`;
}
