import { describe, expect, it } from 'vitest';
import type { ToolExecutionContext } from './tool.js';
import {
  createWeatherTool,
  offlineWeatherBackend,
  weatherTool,
  type WeatherBackend,
  type WeatherReport,
} from './weather.js';

const signal = new AbortController().signal;
const context: ToolExecutionContext = { signal, now: () => 0 };

async function report(input: unknown): Promise<WeatherReport> {
  return weatherTool.execute(weatherTool.parameters.parse(input), context);
}

describe('offlineWeatherBackend', () => {
  it('returns the same report for the same location', async () => {
    const first = await offlineWeatherBackend.current('Paris', 'metric', signal);
    const second = await offlineWeatherBackend.current('Paris', 'metric', signal);
    expect(second).toEqual(first);
  });

  it('normalises case and whitespace before hashing', async () => {
    const plain = await offlineWeatherBackend.current('San Francisco', 'metric', signal);
    const messy = await offlineWeatherBackend.current('  san   FRANCISCO ', 'metric', signal);
    expect({ ...messy, location: plain.location }).toEqual(plain);
    expect(messy.location).toBe('san FRANCISCO');
  });

  it('usually gives different places different weather', async () => {
    const places = ['Paris', 'Tokyo', 'Lagos', 'Lima', 'Oslo', 'Cairo', 'Perth', 'Quito'];
    const reports = await Promise.all(
      places.map((place) => offlineWeatherBackend.current(place, 'metric', signal)),
    );
    const distinct = new Set(
      reports.map(({ temperature, humidity }) => `${temperature}/${humidity}`),
    );
    expect(distinct.size).toBeGreaterThan(places.length / 2);
  });

  it('keeps every figure within its documented range', async () => {
    for (const place of ['a', 'b', 'c', 'Reykjavik', 'Singapore', 'Ulaanbaatar']) {
      const { temperature, humidity, wind_kph, condition, source } =
        await offlineWeatherBackend.current(place, 'metric', signal);
      expect(temperature).toBeGreaterThanOrEqual(-10);
      expect(temperature).toBeLessThanOrEqual(35);
      expect(humidity).toBeGreaterThanOrEqual(20);
      expect(humidity).toBeLessThanOrEqual(95);
      expect(wind_kph).toBeGreaterThanOrEqual(0);
      expect(wind_kph).toBeLessThanOrEqual(40);
      expect(condition).toMatch(/^[a-z ]+$/);
      expect(source).toBe('offline');
    }
  });

  it('converts the same temperature to Fahrenheit for imperial units', async () => {
    const metric = await offlineWeatherBackend.current('Paris', 'metric', signal);
    const imperial = await offlineWeatherBackend.current('Paris', 'imperial', signal);
    expect(imperial.units).toBe('imperial');
    expect(imperial.temperature).toBeCloseTo((metric.temperature * 9) / 5 + 32, 1);
    expect(imperial.wind_kph).toBe(metric.wind_kph);
  });

  it('rejects with the abort reason when the signal has already aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    controller.abort(reason);
    await expect(offlineWeatherBackend.current('Paris', 'metric', controller.signal)).rejects.toBe(
      reason,
    );
  });
});

describe('weatherTool', () => {
  it('is named weather and defaults to metric units', async () => {
    expect(weatherTool.name).toBe('weather');
    const result = await report({ location: 'Paris' });
    expect(result).toEqual(await offlineWeatherBackend.current('Paris', 'metric', signal));
    expect(result.units).toBe('metric');
  });

  it('rejects an empty or overlong location', () => {
    expect(weatherTool.parameters.safeParse({ location: '   ' }).success).toBe(false);
    expect(weatherTool.parameters.safeParse({ location: 'x'.repeat(101) }).success).toBe(false);
    expect(weatherTool.parameters.safeParse({ location: 'x'.repeat(100) }).success).toBe(true);
  });

  it('hands the location, units and signal to a custom backend', async () => {
    const calls: [string, string, AbortSignal][] = [];
    const backend: WeatherBackend = {
      current(location, units, callSignal) {
        calls.push([location, units, callSignal]);
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
    expect(calls).toEqual([['Paris', 'imperial', signal]]);
    expect(result.source).toBe('test-api');
  });
});
