import { describe, expect, it } from 'vitest';
import { ParleyError } from '../errors.js';
import type { ToolExecutionContext } from './tool.js';
import {
  createOfflineWeatherBackend,
  createWeatherTool,
  DEFAULT_FORECAST_DAYS,
  offlineWeatherBackend,
  weatherTool,
  type WeatherBackend,
  type WeatherToolResult,
} from './weather.js';

const signal = new AbortController().signal;
const JANUARY_NOON = Date.UTC(2026, 0, 15, 12);
const JULY_NOON = Date.UTC(2026, 6, 15, 12);
const context: ToolExecutionContext = { signal, now: () => JANUARY_NOON };
const at = (now: number) => ({ now });
const DAY = 86_400_000;

async function report(input: unknown): Promise<WeatherToolResult> {
  return weatherTool.execute(weatherTool.parameters.parse(input), context);
}

/** Every day of a year at noon UTC, for statistics over the seasons. */
const YEAR = Array.from({ length: 365 }, (_, day) => Date.UTC(2026, 0, 1, 12) + day * DAY);

async function yearOf(place: string, seed = 0) {
  const backend = createOfflineWeatherBackend({ seed });
  return Promise.all(YEAR.map((now) => backend.current(place, 'metric', signal, at(now))));
}

const mean = (values: readonly number[]) =>
  values.reduce((total, value) => total + value, 0) / values.length;

describe('offlineWeatherBackend', () => {
  it('returns the same report for the same place, date and seed', async () => {
    const first = await offlineWeatherBackend.current('Paris', 'metric', signal, at(JULY_NOON));
    const second = await offlineWeatherBackend.current('paris', 'metric', signal, at(JULY_NOON));
    expect(second).toEqual(first);
    const seeded = createOfflineWeatherBackend({ seed: 0 });
    expect(await seeded.current('Paris', 'metric', signal, at(JULY_NOON))).toEqual(first);
  });

  it('gives other weather for another seed or another day', async () => {
    const paris = (seed: number, now: number) =>
      createOfflineWeatherBackend({ seed }).current('Paris', 'metric', signal, at(now));
    const reports = await Promise.all(
      [1, 2, 3, 4, 5].flatMap((seed) => [paris(seed, JULY_NOON), paris(0, JULY_NOON + seed * DAY)]),
    );
    const distinct = new Set(reports.map(({ temperature }) => temperature));
    expect(distinct.size).toBeGreaterThan(5);
  });

  it('names the place as the gazetteer knows it, with its country', async () => {
    const cases = [
      ['sao paulo', 'São Paulo, Brazil'],
      ['  BERLIN ', 'Berlin, Germany'],
      ['Beijing', 'Beijing, China'],
      ['Tegucigalpa', 'Tegucigalpa, Honduras'],
      ['Japan', 'Japan'],
    ] as const;
    for (const [asked, named] of cases) {
      const { location } = await offlineWeatherBackend.current(asked, 'metric', signal, at(0));
      expect(location).toBe(named);
    }
  });

  it('follows the climate and the season (regression: Cairo with snow, Dubai below zero)', async () => {
    const seasons = async (place: string) => {
      const year = await yearOf(place);
      const january = year.slice(0, 31).map((day) => day.temperature);
      const july = year.slice(181, 212).map((day) => day.temperature);
      return { january: mean(january), july: mean(july), year };
    };
    const cairo = await seasons('Cairo');
    expect(cairo.year.some((day) => day.condition.includes('snow'))).toBe(false);
    expect(cairo.july).toBeGreaterThan(28);
    const dubai = await seasons('Dubai');
    expect(Math.min(...dubai.year.map((day) => day.temperature))).toBeGreaterThan(5);
    const berlin = await seasons('Berlin');
    expect(berlin.january).toBeGreaterThan(-6);
    expect(berlin.january).toBeLessThan(8);
    expect(berlin.july).toBeGreaterThan(16);
    const sydney = await seasons('Sydney');
    expect(sydney.january).toBeGreaterThan(sydney.july + 5);
    const singapore = await seasons('Singapore');
    expect(Math.abs(singapore.january - singapore.july)).toBeLessThan(3);
  });

  it('keeps snow to freezing temperatures and rain to wet climates', async () => {
    for (const place of ['Berlin', 'Moscow', 'London', 'Mumbai', 'Lima', 'Reykjavik']) {
      for (const day of await yearOf(place, 3)) {
        if (day.condition.includes('snow')) expect(day.temperature).toBeLessThanOrEqual(0.5);
        if (/rain|snow|sleet|thunder/.test(day.condition)) {
          expect(day.precipitation_mm).toBeGreaterThan(0);
          expect(day.precipitation_probability).toBeGreaterThanOrEqual(50);
        } else {
          expect(day.precipitation_mm).toBe(0);
        }
      }
    }
    const wetDays = async (place: string) =>
      (await yearOf(place)).filter((day) => (day.precipitation_mm ?? 0) > 0).length;
    expect(await wetDays('Cairo')).toBeLessThan(10);
    expect(await wetDays('London')).toBeGreaterThan(80);
    expect(await wetDays('Singapore')).toBeGreaterThan(await wetDays('London'));
  });

  it('keeps every figure within its range', async () => {
    for (const place of ['Yakutsk', 'Dubai', 'Singapore', 'McMurdo', 'Honolulu']) {
      for (const day of await yearOf(place, 1)) {
        expect(day.humidity).toBeGreaterThanOrEqual(8);
        expect(day.humidity).toBeLessThanOrEqual(100);
        expect(day.wind_kph).toBeGreaterThanOrEqual(0);
        expect(day.wind_kph).toBeLessThanOrEqual(45);
        expect(day.temperature).toBeGreaterThan(-70);
        expect(day.temperature).toBeLessThan(50);
        expect(day.condition).toMatch(/^[a-z ]+$/);
        expect(day.source).toBe('offline');
      }
    }
  });

  it('forecasts the next days from today, with lows below highs', async () => {
    const forecast =
      (await offlineWeatherBackend.forecast?.('Berlin', 'metric', 3, signal, at(JANUARY_NOON))) ??
      [];
    expect(forecast.map(({ date, weekday }) => [date, weekday])).toEqual([
      ['2026-01-15', 'Thursday'],
      ['2026-01-16', 'Friday'],
      ['2026-01-17', 'Saturday'],
    ]);
    for (const day of forecast) expect(day.low).toBeLessThanOrEqual(day.high);
    const current = await offlineWeatherBackend.current(
      'Berlin',
      'metric',
      signal,
      at(JANUARY_NOON),
    );
    expect(current.precipitation_mm).toBe(forecast[0]?.precipitation_mm);
    expect(current.temperature).toBeGreaterThanOrEqual(forecast[0]?.low ?? Infinity);
    expect(current.temperature).toBeLessThanOrEqual(forecast[0]?.high ?? -Infinity);
  });

  it('uses the local date of the place: it is already tomorrow in Tokyo', async () => {
    const lateEvening = Date.UTC(2026, 0, 15, 20);
    const [tokyo] =
      (await offlineWeatherBackend.forecast?.('Tokyo', 'metric', 1, signal, at(lateEvening))) ?? [];
    expect(tokyo?.date).toBe('2026-01-16');
  });

  it('converts the same temperatures to Fahrenheit for imperial units', async () => {
    const metric = await offlineWeatherBackend.current('Paris', 'metric', signal, at(JULY_NOON));
    const imperial = await offlineWeatherBackend.current(
      'Paris',
      'imperial',
      signal,
      at(JULY_NOON),
    );
    expect(imperial.units).toBe('imperial');
    expect(imperial.temperature).toBeCloseTo((metric.temperature * 9) / 5 + 32, 1);
    expect(imperial.wind_kph).toBe(metric.wind_kph);
  });

  it('rejects an unknown place with tool_failed naming close matches', async () => {
    const failure = offlineWeatherBackend.current('Tokioo', 'metric', signal, at(0));
    await expect(failure).rejects.toBeInstanceOf(ParleyError);
    await expect(failure).rejects.toThrow('Unknown place "Tokioo". Did you mean Tokyo');
    await expect(offlineWeatherBackend.current('Xq', 'metric', signal, at(0))).rejects.toThrow(
      'Unknown place "Xq". Try a city such as Paris, Tokyo or São Paulo.',
    );
  });

  it('rejects with the abort reason when the signal has already aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    controller.abort(reason);
    await expect(offlineWeatherBackend.current('Paris', 'metric', controller.signal)).rejects.toBe(
      reason,
    );
  });

  it('rejects a seed that is not a finite number', () => {
    expect(() => createOfflineWeatherBackend({ seed: Number.NaN })).toThrow(TypeError);
  });
});

describe('weatherTool', () => {
  it('is named weather, defaults to metric and adds a three-day forecast', async () => {
    expect(weatherTool.name).toBe('weather');
    const result = await report({ location: 'Paris' });
    const current = await offlineWeatherBackend.current(
      'Paris',
      'metric',
      signal,
      at(JANUARY_NOON),
    );
    expect(result).toMatchObject(current);
    expect(result.units).toBe('metric');
    expect(result.forecast).toHaveLength(DEFAULT_FORECAST_DAYS);
    expect((await report({ location: 'Paris', days: 7 })).forecast).toHaveLength(7);
  });

  it('rejects an empty or overlong location and days outside 1-7', () => {
    const accepts = (input: unknown) => weatherTool.parameters.safeParse(input).success;
    expect(accepts({ location: '   ' })).toBe(false);
    expect(accepts({ location: 'x'.repeat(101) })).toBe(false);
    expect(accepts({ location: 'x'.repeat(100) })).toBe(true);
    expect(accepts({ location: 'Paris', days: 0 })).toBe(false);
    expect(accepts({ location: 'Paris', days: 8 })).toBe(false);
  });

  it('hands the location, units, signal and clock to a backend without forecasts', async () => {
    const calls: unknown[][] = [];
    const backend: WeatherBackend = {
      current(location, units, callSignal, options) {
        calls.push([location, units, callSignal, options]);
        return Promise.resolve({
          location: 'Paris, FR',
          temperature: 70,
          units,
          condition: 'sunny',
          humidity: 40,
          wind_kph: 5,
          source: 'test-api',
        });
      },
    };
    const tool = createWeatherTool(backend);
    const result = await tool.execute(
      tool.parameters.parse({ location: ' Paris ', units: 'imperial' }),
      context,
    );
    expect(calls).toEqual([['Paris', 'imperial', signal, { now: JANUARY_NOON }]]);
    expect(result.source).toBe('test-api');
    expect(result.forecast).toBeUndefined();
    await expect(
      tool.execute(tool.parameters.parse({ location: 'Paris', days: 2 }), context),
    ).rejects.toThrow('This weather backend has no forecasts');
  });
});
