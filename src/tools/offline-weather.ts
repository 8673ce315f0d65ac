/**
 * The offline weather backend: believable synthetic weather for every place the gazetteer knows
 * (./places.ts), from its climate, the season and the local hour (./synthetic-weather.ts).
 */
import { ParleyError } from '../errors.js';
import { findPlace, suggestPlaces, type Place } from './places.js';
import { syntheticDay, syntheticMoment, type SyntheticDay } from './synthetic-weather.js';
import type { DailyForecast, WeatherBackend, WeatherReport, WeatherUnits } from './weather.js';

/** Options of {@link createOfflineWeatherBackend}. */
export interface OfflineWeatherOptions {
  /**
   * Mixed into every draw: another seed gives other (equally believable) weather.
   * @default 0
   */
  seed?: number;
}

/**
 * Creates an offline backend of **synthetic** weather. A place is found by name (any IANA zone's
 * city, a country, or a city of the climate table; diacritics, case and one typo do not matter);
 * its temperatures follow its climate and the date, the current temperature the local hour, and
 * the condition agrees with the temperature and the precipitation. The time is the tool's injected
 * clock (`options.now`), so a place, a date and a seed always give the same report. An unknown
 * place is a `tool_failed` error naming close matches. Its `source` is `offline`.
 *
 * @example
 * const backend = createOfflineWeatherBackend({ seed: 7 });
 * await backend.current('Berlin', 'metric', signal, { now: Date.UTC(2026, 0, 15, 12) });
 * // { location: 'Berlin, Germany', temperature: 2.4, condition: 'cloudy', … }
 */
export function createOfflineWeatherBackend(options: OfflineWeatherOptions = {}): WeatherBackend {
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed)) throw new TypeError(`seed: expected a finite number, got ${seed}`);
  return {
    current(location, units, signal, request) {
      // A promise chain, so an aborted signal rejects the call rather than throwing synchronously.
      return Promise.resolve().then((): WeatherReport => {
        signal.throwIfAborted();
        const place = placeFor(location);
        const moment = syntheticMoment(place, request?.now ?? 0, seed);
        return {
          location: describePlace(place),
          temperature: convert(moment.temperature, units),
          units,
          condition: moment.condition,
          humidity: moment.humidity,
          wind_kph: moment.day.wind,
          precipitation_mm: moment.day.precipitation,
          precipitation_probability: moment.day.probability,
          source: 'offline',
        };
      });
    },
    forecast(location, units, days, signal, request) {
      return Promise.resolve().then((): DailyForecast[] => {
        signal.throwIfAborted();
        const place = placeFor(location);
        return Array.from({ length: days }, (_, offset) =>
          toForecast(syntheticDay(place, request?.now ?? 0, offset, seed), units),
        );
      });
    },
  };
}

/**
 * The offline backend with seed 0: what `createDefaultToolRegistry()` uses.
 *
 * @example
 * await offlineWeatherBackend.current('Paris', 'metric', AbortSignal.timeout(1000), { now });
 */
export const offlineWeatherBackend: WeatherBackend = createOfflineWeatherBackend();

function placeFor(location: string): Place {
  const place = findPlace(location);
  if (place !== undefined) return place;
  const close = suggestPlaces(location);
  const hint =
    close.length > 0
      ? `Did you mean ${listOfNames(close)}?`
      : 'Try a city such as Paris, Tokyo or São Paulo.';
  throw new ParleyError('tool_failed', `Unknown place "${location.trim()}". ${hint}`);
}

function describePlace(place: Place): string {
  return place.country === undefined || place.country === place.name
    ? place.name
    : `${place.name}, ${place.country}`;
}

function toForecast(day: SyntheticDay, units: WeatherUnits): DailyForecast {
  return {
    date: day.date,
    weekday: day.weekday,
    condition: day.condition,
    high: convert(day.high, units),
    low: convert(day.low, units),
    precipitation_mm: day.precipitation,
    precipitation_probability: day.probability,
  };
}

/** °C to the units asked for, one decimal: °F is (°C × 9/5 + 32), rounded on tenths. */
function convert(celsius: number, units: WeatherUnits): number {
  return units === 'imperial' ? Math.round(celsius * 18 + 320) / 10 : celsius;
}

/** `a`, `a or b`, `a, b or c`. */
export function listOfNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}`;
}
