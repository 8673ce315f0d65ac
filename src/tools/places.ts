/**
 * Over 300 lines because most of it is a data table of places.
 *
 * The offline gazetteer: every IANA time zone's city, the countries they lie in, and the
 * well-known cities of ./city-climates.ts, found by name with or without diacritics, case or
 * punctuation, forgiving one typo in a longer name, and naming close matches for a name it does
 * not know. The offline model resolves time zones with it and the offline weather finds climates.
 */
import { CITY_CLIMATES } from './city-climates.js';
import { LEGACY_ZONE_NAMES, ZONE_LOCATIONS } from './zone-locations.js';

/** A place's climate: mean temperatures of January and July and its precipitation. */
export interface Climate {
  /** Mean temperature of January, °C. */
  january: number;
  /** Mean temperature of July, °C. */
  july: number;
  /** Precipitation in a year, mm. */
  precipitation: number;
  /** The month with the most precipitation, 1-12. */
  wettestMonth: number;
  /** 0: precipitation spread evenly over the year; 1: nearly all of it around the wettest month. */
  seasonality: number;
}

/** A place the gazetteer knows. */
export interface Place {
  /** Its name as people write it, e.g. `São Paulo`, `Japan`. */
  name: string;
  /** `city` (a zone's principal city or a city of the climate table) or `country`. */
  kind: 'city' | 'country';
  /** English name of its country, e.g. `Brazil`, when known. */
  country: string | undefined;
  /** Its IANA time zone, in the current spelling, e.g. `Asia/Kolkata`. */
  zone: string;
  /** For a country: how many zones it has (the `zone` is that of its capital or largest city). */
  zoneCount: number;
  /** Degrees north, when known. */
  latitude: number | undefined;
  /** From the climate table, when the place is in it. */
  climate: Climate | undefined;
}

// Countries with several zones whose first zone in zone.tab is not the one people mean.
const MAIN_ZONES: Readonly<Record<string, string>> = {
  AU: 'Australia/Sydney',
  BR: 'America/Sao_Paulo',
  CA: 'America/Toronto',
  RU: 'Europe/Moscow',
  UA: 'Europe/Kyiv',
  UZ: 'Asia/Tashkent',
};

// Names of countries that `Intl.DisplayNames` spells otherwise, or not at all.
const COUNTRY_ALIASES: Readonly<Record<string, readonly string[]>> = {
  US: ['USA', 'US', 'United States of America', 'America', 'the States'],
  GB: ['UK', 'Great Britain', 'Britain', 'England', 'Scotland', 'Wales'],
  NL: ['Holland', 'the Netherlands'],
  CZ: ['Czech Republic'],
  CI: ['Ivory Coast'],
  TR: ['Turkey', 'Türkiye'],
  MM: ['Burma'],
  AE: ['UAE', 'Emirates'],
  KR: ['Korea'],
  CD: ['DRC', 'Congo-Kinshasa'],
};

const FOLDED_LETTERS: Readonly<Record<string, string>> = {
  ß: 'ss',
  ø: 'o',
  æ: 'ae',
  œ: 'oe',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
};

/**
 * The form names are compared in: without diacritics, lower case, `_`, `-`, `/` and other
 * punctuation as spaces, dots dropped (`St. Petersburg` → `st petersburg`, `D.C.` → `dc`).
 */
export function normalisePlaceName(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[ßøæœłđðþı]/g, (letter) => FOLDED_LETTERS[letter] ?? letter)
    .replace(/[.'’]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .replace(/\bsaint\b/g, 'st')
    .trim();
}

let index: Map<string, Place> | undefined;

function placeIndex(): Map<string, Place> {
  index ??= buildIndex();
  return index;
}

function buildIndex(): Map<string, Place> {
  const places = new Map<string, Place>();
  const add = (name: string, place: Place): void => {
    const key = normalisePlaceName(name);
    // First come, first served: a curated city keeps its name against a zone or country.
    if (key !== '' && !places.has(key)) places.set(key, place);
  };
  const countryNames = new Intl.DisplayNames('en', { type: 'region' });
  const countryOf = new Map(ZONE_LOCATIONS.map(([zone, country]) => [zone, country]));
  const countryName = (zone: string): string | undefined => {
    const code = countryOf.get(zone);
    return code === undefined ? undefined : countryNames.of(code);
  };
  for (const [
    name,
    zone,
    latitude,
    january,
    july,
    precipitation,
    wettest,
    seasonality,
    ...aliases
  ] of CITY_CLIMATES) {
    const climate = { january, july, precipitation, wettestMonth: wettest, seasonality };
    const place: Place = {
      name,
      kind: 'city',
      country: countryName(zone),
      zone,
      zoneCount: 1,
      latitude,
      climate,
    };
    for (const alias of [name, ...aliases]) add(alias, place);
  }
  const zonePlaces = new Map<string, Place>();
  for (const [zone, , latitude] of ZONE_LOCATIONS) {
    const city = cityOfZone(zone);
    const place = places.get(normalisePlaceName(city));
    const known = place?.zone === zone ? place : undefined;
    const zonePlace: Place = known ?? {
      name: city,
      kind: 'city',
      country: countryName(zone),
      zone,
      zoneCount: 1,
      latitude,
      climate: undefined,
    };
    zonePlaces.set(zone, zonePlace);
    add(city, zonePlace);
    add(zone, zonePlace);
  }
  for (const [legacy, current] of LEGACY_ZONE_NAMES) {
    const place = zonePlaces.get(current);
    if (place === undefined) continue;
    add(cityOfZone(legacy), place);
    add(legacy, place);
  }
  // Whatever this Node's ICU lists that zone.tab does not is still found by its city.
  for (const zone of Intl.supportedValuesOf('timeZone')) {
    if (zonePlaces.has(zone) || LEGACY_ZONE_NAMES.has(zone)) continue;
    const place: Place = {
      name: cityOfZone(zone),
      kind: 'city',
      country: undefined,
      zone,
      zoneCount: 1,
      latitude: undefined,
      climate: undefined,
    };
    add(place.name, place);
    add(zone, place);
  }
  addCountries(add, zonePlaces, countryNames);
  return places;
}

function addCountries(
  add: (name: string, place: Place) => void,
  zonePlaces: ReadonlyMap<string, Place>,
  countryNames: Intl.DisplayNames,
): void {
  const zonesOf = new Map<string, string[]>();
  for (const [zone, country] of ZONE_LOCATIONS)
    zonesOf.set(country, [...(zonesOf.get(country) ?? []), zone]);
  for (const [code, zones] of zonesOf) {
    const zone = MAIN_ZONES[code] ?? zones[0] ?? 'UTC';
    const name = countryNames.of(code) ?? code;
    const city = zonePlaces.get(zone);
    const place: Place = {
      name,
      kind: 'country',
      country: name,
      zone,
      zoneCount: zones.length,
      latitude: city?.latitude,
      climate: city?.climate,
    };
    for (const alias of [name, ...(COUNTRY_ALIASES[code] ?? [])]) add(alias, place);
  }
}

/** `America/Argentina/Buenos_Aires` → `Buenos Aires`. */
function cityOfZone(zone: string): string {
  return (zone.split('/').at(-1) ?? zone).replaceAll('_', ' ');
}

/**
 * The place with this name: exact once normalised (see {@link normalisePlaceName}), then without
 * what follows a comma (`Paris, France`) or a leading `the`, then a unique name one typo away
 * (two for names of nine letters or more; none for names shorter than five).
 *
 * @example
 * findPlace('sao paulo')?.zone; // 'America/Sao_Paulo'
 * findPlace('Beijing')?.zone; // 'Asia/Shanghai'
 * findPlace('Berln')?.name; // 'Berlin'
 */
export function findPlace(name: string): Place | undefined {
  const places = placeIndex();
  const key = normalisePlaceName(name);
  const candidates = [key, normalisePlaceName(name.split(',')[0] ?? ''), key.replace(/^the /, '')];
  for (const candidate of candidates) {
    const place = places.get(candidate);
    if (place !== undefined) return place;
  }
  if (key.length < 5) return undefined;
  const allowed = key.length >= 9 ? 2 : 1;
  const close = closeNames(key, allowed);
  const [best, second] = close;
  if (best === undefined || best.distance > allowed) return undefined;
  if (second !== undefined && second.distance === best.distance && second.place !== best.place) {
    return undefined;
  }
  return best.place;
}

/**
 * Up to `count` names of known places close to `name` (by edit distance, or starting with it),
 * closest first, for a helpful "did you mean" answer.
 *
 * @example
 * suggestPlaces('Tokio'); // ['Tokyo', …]
 */
export function suggestPlaces(name: string, count = 3): string[] {
  const key = normalisePlaceName(name);
  if (key === '') return [];
  const names: string[] = [];
  // Two typos in a four-letter word leave little of it, so short names get fewer.
  const limit = Math.min(3, Math.max(1, Math.floor(key.length / 3)));
  for (const { place } of closeNames(key, limit)) {
    if (!names.includes(place.name)) names.push(place.name);
    if (names.length === count) break;
  }
  return names;
}

function closeNames(key: string, limit: number): { place: Place; distance: number }[] {
  const found: { place: Place; distance: number; name: string }[] = [];
  for (const [name, place] of placeIndex()) {
    // A known name that starts with what was typed ("san fran") is as good as one typo.
    const distance = name.startsWith(key) && key.length >= 3 ? 1 : editDistance(key, name, limit);
    if (distance <= limit) found.push({ place, distance, name });
  }
  return found.sort(
    (left, right) => left.distance - right.distance || left.name.localeCompare(right.name),
  );
}

/**
 * Optimal string alignment distance (Levenshtein plus swapped neighbours), giving up above
 * `limit` so a scan of every name stays cheap.
 */
export function editDistance(left: string, right: string, limit = Infinity): number {
  if (Math.abs(left.length - right.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: right.length + 1 }, (_, column) => column);
  for (let row = 1; row <= left.length; row += 1) {
    const current = [row];
    let smallest = row;
    for (let column = 1; column <= right.length; column += 1) {
      const cost = left[row - 1] === right[column - 1] ? 0 : 1;
      let value = Math.min(
        (previous[column] ?? 0) + 1,
        (current[column - 1] ?? 0) + 1,
        (previous[column - 1] ?? 0) + cost,
      );
      if (
        row > 1 &&
        column > 1 &&
        left[row - 1] === right[column - 2] &&
        left[row - 2] === right[column - 1]
      ) {
        value = Math.min(value, (before[column - 2] ?? 0) + 1);
      }
      current.push(value);
      smallest = Math.min(smallest, value);
    }
    if (smallest > limit) return limit + 1;
    before = previous;
    previous = current;
  }
  return previous[right.length] ?? limit + 1;
}
