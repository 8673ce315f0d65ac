import { describe, expect, it } from 'vitest';
import { CITY_CLIMATES } from './city-climates.js';
import { editDistance, findPlace, normalisePlaceName, suggestPlaces } from './places.js';
import { isValidTimeZone } from './time-zone.js';
import { ZONE_LOCATIONS } from './zone-locations.js';

describe('findPlace', () => {
  it('finds every zone of Intl.supportedValuesOf by its city name, or by its name when shadowed', () => {
    const missing: string[] = [];
    const shadowed: string[] = [];
    for (const zone of Intl.supportedValuesOf('timeZone')) {
      const city = (zone.split('/').at(-1) ?? zone).replaceAll('_', ' ');
      const place = findPlace(city);
      // A city can name a link to the same clock (Asia/Calcutta is Asia/Kolkata) …
      if (place !== undefined && sameClock(place.zone, zone)) continue;
      // … or a better-known namesake (San Juan, Puerto Rico), leaving its zone name to find it.
      if (place !== undefined && sameClock(findPlace(zone)?.zone ?? '', zone)) shadowed.push(zone);
      else missing.push(zone);
    }
    expect(missing).toEqual([]);
    expect(shadowed).toEqual(['America/Argentina/San_Juan']);
  });

  it.each([
    ['Beijing', 'Asia/Shanghai'],
    ['São Paulo', 'America/Sao_Paulo'],
    ['sao paulo', 'America/Sao_Paulo'],
    ['ZURICH', 'Europe/Zurich'],
    ['Reykjavik', 'Atlantic/Reykjavik'],
    ['Mumbai', 'Asia/Kolkata'],
    ['Calcutta', 'Asia/Kolkata'],
    ['Kiev', 'Europe/Kyiv'],
    ['Saigon', 'Asia/Ho_Chi_Minh'],
    ['St. Petersburg', 'Europe/Moscow'],
    ['Washington, D.C.', 'America/New_York'],
    ['San Francisco, CA', 'America/Los_Angeles'],
    ['Europe/Madrid', 'Europe/Madrid'],
    ['japan', 'Asia/Tokyo'],
    ['the Netherlands', 'Europe/Amsterdam'],
    ['USA', 'America/New_York'],
    ['Australia', 'Australia/Sydney'],
    ['Berln', 'Europe/Berlin'],
    ['Tokio', 'Asia/Tokyo'],
  ])('finds %s in %s', (name, zone) => {
    expect(findPlace(name)?.zone).toBe(zone);
  });

  it('gives a country its zone count, its name and its main city climate', () => {
    expect(findPlace('United States')).toMatchObject({
      kind: 'country',
      name: 'United States',
      zone: 'America/New_York',
    });
    expect(findPlace('USA')?.zoneCount).toBeGreaterThan(5);
    expect(findPlace('France')?.climate).toEqual(findPlace('Paris')?.climate);
  });

  it('does not guess a short or ambiguous name', () => {
    expect(findPlace('Pari')).toBeUndefined();
    expect(findPlace('Narnia')).toBeUndefined();
    expect(findPlace('')).toBeUndefined();
  });

  it('knows the zone and latitude of every city in the climate table', () => {
    const zones = new Set(ZONE_LOCATIONS.map(([zone]) => zone));
    for (const [name, zone, latitude] of CITY_CLIMATES) {
      expect(zones.has(zone), `${name}: ${zone}`).toBe(true);
      expect(isValidTimeZone(zone)).toBe(true);
      expect(findPlace(name)).toMatchObject({ name, zone, latitude });
    }
  });
});

describe('suggestPlaces', () => {
  it('names close matches, closest first', () => {
    expect(suggestPlaces('Tokioo')[0]).toBe('Tokyo');
    expect(suggestPlaces('san fran')).toContain('San Francisco');
    expect(suggestPlaces('Atlantis')).toEqual(['Atlanta']);
    expect(suggestPlaces('Qqqq')).toEqual([]);
  });
});

describe('normalisePlaceName', () => {
  it('drops diacritics, case, dots and punctuation', () => {
    expect(normalisePlaceName('  Zürich ')).toBe('zurich');
    expect(normalisePlaceName('Saint-Étienne')).toBe('st etienne');
    expect(normalisePlaceName('Tromsø')).toBe('tromso');
    expect(normalisePlaceName('America/Port_of_Spain')).toBe('america port of spain');
  });
});

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and swapped neighbours', () => {
    expect(editDistance('berlin', 'berlin')).toBe(0);
    expect(editDistance('berln', 'berlin')).toBe(1);
    expect(editDistance('brelin', 'berlin')).toBe(1);
    expect(editDistance('paris', 'tokyo')).toBe(5);
    expect(editDistance('paris', 'tokyo', 2)).toBe(3);
  });
});

function sameClock(left: string, right: string): boolean {
  const resolve = (zone: string) =>
    new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
  return resolve(left) === resolve(right);
}
