/**
 * The `weather` tool and the backend contract behind it. The default backend is offline and
 * synthetic, so demos and tests never touch the network; a real HTTP backend implements
 * {@link WeatherBackend} and is passed to {@link createWeatherTool}.
 */
import { z } from 'zod';
import { defineTool, type Tool } from './tool.js';

/** Unit system of a weather report: `metric` is °C, `imperial` is °F. */
export type WeatherUnits = 'metric' | 'imperial';

/** Current conditions at one place, as the `weather` tool returns them. */
export interface WeatherReport {
  /** The place, as the backend names it. */
  location: string;
  /** Air temperature in °C (`metric`) or °F (`imperial`), one decimal. */
  temperature: number;
  units: WeatherUnits;
  /** Plain words, e.g. `partly cloudy`. */
  condition: string;
  /** Relative humidity in percent, 0–100. */
  humidity: number;
  /** Wind speed in km/h, whatever the units. */
  wind_kph: number;
  /** Where the data came from, e.g. `offline` or the name of a weather API. */
  source: string;
}

/**
 * Where the `weather` tool gets its data. Implementations pass `signal` to their HTTP client (or
 * check it between steps) so a timed-out or cancelled call stops promptly.
 *
 * @example
 * const httpWeatherBackend: WeatherBackend = {
 *   async current(location, units, signal) {
 *     const response = await fetch(`${baseUrl}?q=${encodeURIComponent(location)}&units=${units}`, { signal });
 *     if (!response.ok) throw new Error(`Weather API answered ${response.status}`);
 *     return toWeatherReport(await response.json(), units);
 *   },
 * };
 */
export interface WeatherBackend {
  current(location: string, units: WeatherUnits, signal: AbortSignal): Promise<WeatherReport>;
}

const CONDITIONS = [
  'clear',
  'sunny',
  'partly cloudy',
  'cloudy',
  'overcast',
  'light rain',
  'rain',
  'thunderstorms',
  'fog',
  'snow',
] as const;

/**
 * A deterministic offline backend returning **synthetic** weather: every figure is derived from a
 * 32-bit FNV-1a hash of the normalised location (trimmed, lower-cased, inner whitespace collapsed),
 * so the same place always gets the same report and different places usually get different ones.
 * The data has nothing to do with the real weather; its `source` is `offline`.
 *
 * @example
 * await offlineWeatherBackend.current('Paris', 'metric', AbortSignal.timeout(1000));
 */
export const offlineWeatherBackend: WeatherBackend = {
  current(location, units, signal) {
    // A promise chain, so an aborted signal rejects the call rather than throwing synchronously.
    return Promise.resolve().then(() => {
      signal.throwIfAborted();
      return syntheticReport(location, units);
    });
  },
};

/** The synthetic report for a location; see {@link offlineWeatherBackend}. */
function syntheticReport(location: string, units: WeatherUnits): WeatherReport {
  const display = location.trim().replace(/\s+/g, ' ');
  const key = display.toLowerCase();
  // One hash per figure: cheaper to reason about than slicing the bits of a single hash.
  const figure = (name: string, modulo: number): number => fnv1a(`${key}#${name}`) % modulo;
  const celsius = (figure('temperature', 451) - 100) / 10; // -10.0 to 35.0 °C
  // °F to one decimal: (°C × 9/5 + 32) × 10, rounded, over 10.
  const temperature = units === 'imperial' ? Math.round(celsius * 18 + 320) / 10 : celsius;
  return {
    location: display,
    temperature,
    units,
    condition: CONDITIONS[figure('condition', CONDITIONS.length)] ?? 'clear',
    humidity: 20 + figure('humidity', 76),
    wind_kph: figure('wind', 41),
    source: 'offline',
  };
}

/** 32-bit FNV-1a over the UTF-16 code units of `text`: tiny, stable across runs and platforms. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const weatherParameters = z.object({
  location: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .describe('City or place name, e.g. "Paris" or "San Francisco, CA".'),
  units: z
    .enum(['metric', 'imperial'])
    .default('metric')
    .describe('metric for °C, imperial for °F.'),
});

/**
 * Creates the `weather` tool over a backend; the tool validates its parameters and hands the
 * call's signal to the backend.
 *
 * @default backend {@link offlineWeatherBackend}
 * @example
 * const registry = new ToolRegistry([createWeatherTool(httpWeatherBackend)]);
 */
export function createWeatherTool(
  backend: WeatherBackend = offlineWeatherBackend,
): Tool<typeof weatherParameters, WeatherReport> {
  return defineTool({
    name: 'weather',
    description: 'Current weather (temperature, condition, humidity, wind) for a city or place.',
    parameters: weatherParameters,
    execute: ({ location, units }, { signal }) => backend.current(location, units, signal),
  });
}

/**
 * The `weather` tool over the offline backend.
 *
 * @example
 * await weatherTool.execute({ location: 'Paris', units: 'metric' }, context);
 */
export const weatherTool = createWeatherTool();
