/**
 * The `weather` tool and the backend contract behind it. The default backend (./offline-weather.ts)
 * is offline and synthetic, so demos and tests never touch the network; a real HTTP backend
 * implements {@link WeatherBackend} and is passed to {@link createWeatherTool}.
 */
import { z } from 'zod';
import { ParleyError } from '../errors.js';
import { offlineWeatherBackend } from './offline-weather.js';
import { defineTool, type Tool } from './tool.js';

export {
  createOfflineWeatherBackend,
  offlineWeatherBackend,
  type OfflineWeatherOptions,
} from './offline-weather.js';

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
  /** Precipitation expected over the whole day, in mm, when the backend knows it. */
  precipitation_mm?: number;
  /** Chance of precipitation today, in percent, when the backend knows it. */
  precipitation_probability?: number;
  /** Where the data came from, e.g. `offline` or the name of a weather API. */
  source: string;
}

/** The weather of one day, as a forecast gives it. */
export interface DailyForecast {
  /** Local date at the place, `YYYY-MM-DD`. */
  date: string;
  /** English weekday name of `date`. */
  weekday: string;
  condition: string;
  /** Highest temperature of the day, in the report's units. */
  high: number;
  /** Lowest temperature of the day, in the report's units. */
  low: number;
  /** Precipitation over the day, mm. */
  precipitation_mm: number;
  /** Chance of precipitation, percent. */
  precipitation_probability: number;
}

/** What the `weather` tool returns: current conditions, and daily forecasts when there are any. */
export interface WeatherToolResult extends WeatherReport {
  /** Today first, then the following days; absent when the backend has no forecasts. */
  forecast?: DailyForecast[];
}

/** What a backend receives besides the place and units. */
export interface WeatherRequestOptions {
  /**
   * The time of the call in epoch milliseconds, from the tool's injected clock. A backend of live
   * data may ignore it; the offline one reports the weather of that moment, so replays agree.
   */
  now: number;
}

/**
 * Where the `weather` tool gets its data. Implementations pass `signal` to their HTTP client (or
 * check it between steps) so a timed-out or cancelled call stops promptly. `forecast` is
 * optional: without it the tool reports current conditions only.
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
  current(
    location: string,
    units: WeatherUnits,
    signal: AbortSignal,
    options?: WeatherRequestOptions,
  ): Promise<WeatherReport>;
  /** Daily forecasts for `days` days, today first. */
  forecast?(
    location: string,
    units: WeatherUnits,
    days: number,
    signal: AbortSignal,
    options?: WeatherRequestOptions,
  ): Promise<DailyForecast[]>;
}

/** Days of forecast the tool adds when the call does not say, if the backend has forecasts. */
export const DEFAULT_FORECAST_DAYS = 3;

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
  days: z
    .number()
    .int()
    .min(1)
    .max(7)
    .optional()
    .describe(
      `Days of daily forecast, today first (2 reaches tomorrow), 1-7. Default ${DEFAULT_FORECAST_DAYS} when the backend has forecasts.`,
    ),
});

/**
 * Creates the `weather` tool over a backend; the tool validates its parameters and hands the
 * call's signal and clock to the backend. With a backend that has `forecast`, the result carries
 * `days` daily forecasts (default {@link DEFAULT_FORECAST_DAYS}); asking for `days` from a
 * backend without forecasts is a `tool_failed` error.
 *
 * @default backend {@link offlineWeatherBackend}
 * @example
 * const registry = new ToolRegistry([createWeatherTool(httpWeatherBackend)]);
 */
export function createWeatherTool(
  backend: WeatherBackend = offlineWeatherBackend,
): Tool<typeof weatherParameters, WeatherToolResult> {
  return defineTool({
    name: 'weather',
    description:
      'Current weather (temperature, condition, humidity, wind, precipitation) and daily forecasts for a city or place.',
    parameters: weatherParameters,
    async execute({ location, units, days }, { signal, now }) {
      const options = { now: now() };
      if (backend.forecast === undefined) {
        if (days !== undefined) {
          throw new ParleyError(
            'tool_failed',
            'This weather backend has no forecasts; ask for the current weather without "days"',
          );
        }
        return backend.current(location, units, signal, options);
      }
      const [report, forecast] = await Promise.all([
        backend.current(location, units, signal, options),
        backend.forecast(location, units, days ?? DEFAULT_FORECAST_DAYS, signal, options),
      ]);
      return { ...report, forecast };
    },
  });
}

/**
 * The `weather` tool over the offline backend.
 *
 * @example
 * await weatherTool.execute({ location: 'Paris', units: 'metric' }, context);
 */
export const weatherTool = createWeatherTool();
