/**
 * Believable synthetic weather for the offline backend: a day's temperatures follow the place's
 * climate and the season, with a smooth day-to-day anomaly; precipitation follows its wet and dry
 * seasons; the condition agrees with both (no snow above freezing point, no sun on a rainy day).
 * Every figure is drawn from a hash of the place, the date and a seed, so the same inputs always
 * give the same weather.
 */
import type { Climate, Place } from './places.js';
import { wallClock } from './time-zone.js';

/** One day of synthetic weather at a place, in metric units. */
export interface SyntheticDay {
  /** Local date, `YYYY-MM-DD`. */
  date: string;
  /** English weekday name. */
  weekday: string;
  /** °C */
  high: number;
  /** °C */
  low: number;
  condition: string;
  /** Precipitation over the day, mm (0 on a dry day). */
  precipitation: number;
  /** Chance of precipitation, percent in steps of 5; 50 or more on a day with precipitation. */
  probability: number;
  /** Relative humidity over the day, percent. */
  humidity: number;
  /** km/h */
  wind: number;
}

/** The weather at one instant: the day it belongs to, plus the temperature and sky right then. */
export interface SyntheticMoment {
  day: SyntheticDay;
  /** °C */
  temperature: number;
  condition: string;
  humidity: number;
}

const DAY_MILLISECONDS = 86_400_000;
const YEAR_DAYS = 365.25;
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** The weather of the local day `offset` days after the one containing `at` (0 is today). */
export function syntheticDay(place: Place, at: number, offset: number, seed: number): SyntheticDay {
  const wall = wallClock(at, place.zone);
  const dayNumber = Math.floor(Date.UTC(wall.year, wall.month - 1, wall.day) / DAY_MILLISECONDS);
  return dayWeather(place, dayNumber + offset, seed).day;
}

/** The weather at the instant `at`, in the place's local time. */
export function syntheticMoment(place: Place, at: number, seed: number): SyntheticMoment {
  const wall = wallClock(at, place.zone);
  const dayNumber = Math.floor(Date.UTC(wall.year, wall.month - 1, wall.day) / DAY_MILLISECONDS);
  const { day, rainy, thunder, baseHumidity } = dayWeather(place, dayNumber, seed);
  const hour = wall.hour + wall.minute / 60;
  const temperature = round(diurnal(day.low, day.high, hour), 1);
  const night = hour < 6.5 || hour > 19.5;
  let condition = day.condition;
  if (rainy) condition = precipitationKind(temperature, day.precipitation, thunder);
  else if (condition === 'sunny' && night) condition = 'clear';
  else if (condition === 'fog' && hour >= 11) condition = 'cloudy';
  // Relative humidity peaks at dawn, when the air is coolest.
  const coolness = day.high === day.low ? 0 : (day.high - temperature) / (day.high - day.low);
  const humidity = clamp(Math.round(baseHumidity + coolness * 16 - 8), 8, 100);
  return { day, temperature, condition, humidity };
}

function dayWeather(place: Place, dayNumber: number, seed: number) {
  const climate = place.climate ?? estimateClimate(place.latitude ?? 45);
  const noise = (name: string, day = dayNumber): number =>
    hash(`${seed}|${place.zone}|${place.name}|${name}|${day}`) / 4_294_967_296;
  const date = new Date(dayNumber * DAY_MILLISECONDS);
  const dayOfYear =
    dayNumber - Math.floor(Date.UTC(date.getUTCFullYear(), 0, 1) / DAY_MILLISECONDS) + 1;

  const seasonal = climate.january + (climate.july - climate.january) * seasonShare(dayOfYear);
  const swing = 2 + 0.25 * Math.abs(climate.july - climate.january);
  // Neighbouring days share their noise, so a warm spell lasts a few days instead of flickering.
  const centred = (day: number): number => noise('temperature', day) * 2 - 1;
  const anomaly =
    (swing * (centred(dayNumber - 1) + 2 * centred(dayNumber) + centred(dayNumber + 1))) / 4;
  const mean = seasonal + anomaly;

  const monthly = monthlyPrecipitation(climate, dayOfYear);
  const wetChance = clamp(monthly / (monthly + 90), 0.005, 0.92);
  const spread = Math.min(0.9, 0.2 + 1.6 * wetChance);
  const chance = clamp(wetChance + (noise('rain') - 0.5) * spread, 0, 0.98);
  const rainy = chance >= 0.5;
  const wetDayAmount = monthly / (30.44 * Math.max(wetChance, 0.03));
  const precipitation = rainy
    ? Math.max(0.2, round(wetDayAmount * (0.2 + 1.6 * noise('amount')), 1))
    : 0;
  const thunder = noise('thunder') < 0.5;

  const dry = climate.precipitation < 300 ? 4 : climate.precipitation < 600 ? 2 : 0;
  // Short winter days warm up less: away from the subtropics the daily range shrinks in winter.
  const latitude = Math.abs(place.latitude ?? 45);
  const summer =
    climate.july >= climate.january ? seasonShare(dayOfYear) : 1 - seasonShare(dayOfYear);
  const winterWeight = clamp((latitude - 25) / 25, 0, 1);
  const sunshine = 1 - winterWeight * (1 - summer);
  const range = (4 + 4 * sunshine + dry + 3 * noise('range')) * (rainy ? 0.6 : 1);
  const high = round(mean + range / 2, 1);
  const low = round(mean - range / 2, 1);

  const foggy =
    !rainy && mean > -3 && mean < 15 && climate.precipitation > 500 && noise('fog') < 0.08;
  const condition = rainy
    ? precipitationKind(mean, precipitation, thunder)
    : foggy
      ? 'fog'
      : chance >= 0.35
        ? 'cloudy'
        : chance >= 0.2
          ? 'partly cloudy'
          : 'sunny';
  const baseHumidity =
    (climate.precipitation < 300 ? 30 : climate.precipitation < 800 ? 58 : 68) +
    chance * 25 +
    (rainy || foggy ? 10 : 0);
  const wind = Math.round(
    4 + noise('wind') * 18 + (rainy ? 6 : 0) + (condition === 'thunderstorms' ? 12 : 0),
  );
  const day: SyntheticDay = {
    date: date.toISOString().slice(0, 10),
    weekday: WEEKDAYS[date.getUTCDay()] ?? 'Sunday',
    high: Math.max(high, low),
    low,
    condition,
    precipitation,
    probability: Math.round((chance * 100) / 5) * 5,
    humidity: clamp(Math.round(baseHumidity), 8, 100),
    wind,
  };
  return { day, rainy, thunder, baseHumidity };
}

/**
 * How far the season is from January (0) to July (1): a cosine through the year, so both ends of
 * December and January meet without a jump.
 */
function seasonShare(dayOfYear: number): number {
  return (1 - Math.cos((2 * Math.PI * (dayOfYear - 15)) / YEAR_DAYS)) / 2;
}

function monthlyPrecipitation(climate: Climate, dayOfYear: number): number {
  const wettestDay = (climate.wettestMonth - 0.5) * (YEAR_DAYS / 12);
  const weight = (day: number): number =>
    Math.max(
      0.05,
      1 + 2 * climate.seasonality * Math.cos((2 * Math.PI * (day - wettestDay)) / YEAR_DAYS),
    );
  let total = 0;
  for (let sample = 0; sample < 24; sample += 1) total += weight((sample + 0.5) * (YEAR_DAYS / 24));
  return (climate.precipitation / 12) * (weight(dayOfYear) / (total / 24));
}

/** Snow at or below freezing, sleet just above it, rain (with storms when warm) otherwise. */
function precipitationKind(temperature: number, millimetres: number, thunder: boolean): string {
  if (temperature <= 0.5) return millimetres < 2 ? 'light snow' : 'snow';
  if (temperature <= 2.5) return 'sleet';
  if (temperature >= 18 && millimetres >= 6 && thunder) return 'thunderstorms';
  if (millimetres < 2) return 'light rain';
  return millimetres >= 12 ? 'heavy rain' : 'rain';
}

/** The temperature at a local hour: lowest around 06:00, highest around 15:00. */
function diurnal(low: number, high: number, hour: number): number {
  const warming = hour >= 6 && hour <= 15;
  const progress = warming ? (hour - 6) / 9 : ((hour - 15 + 24) % 24) / 15;
  const share = (1 - Math.cos(Math.PI * progress)) / 2;
  return warming ? low + (high - low) * share : high - (high - low) * share;
}

// Mean yearly temperature and the July-January difference by latitude, for the northern
// hemisphere; rough zonal averages that stand in for places missing from the climate table.
const MEAN_BY_LATITUDE = [
  [0, 27],
  [15, 26],
  [25, 23],
  [30, 20],
  [35, 17],
  [40, 14],
  [45, 11.5],
  [50, 9.5],
  [55, 7],
  [60, 4.5],
  [65, 1],
  [70, -2],
  [80, -12],
  [90, -20],
] as const;
const SWING_BY_LATITUDE = [
  [0, 1],
  [15, 4],
  [25, 10],
  [35, 16],
  [45, 20],
  [55, 21],
  [65, 25],
  [80, 30],
  [90, 30],
] as const;

/**
 * A plausible climate from latitude alone, for a place the climate table does not know: warmer
 * and more even towards the equator, with milder seasons in the oceanic southern hemisphere.
 */
export function estimateClimate(latitude: number): Climate {
  const distance = Math.min(90, Math.abs(latitude));
  const mean = interpolate(MEAN_BY_LATITUDE, distance);
  const swing = interpolate(SWING_BY_LATITUDE, distance) * (latitude < 0 ? 0.6 : 1);
  const [january, july] =
    latitude < 0 ? [mean + swing / 2, mean - swing / 2] : [mean - swing / 2, mean + swing / 2];
  const precipitation =
    distance < 10 ? 2000 : distance < 20 ? 1300 : distance < 30 ? 600 : distance < 60 ? 750 : 400;
  return {
    january: round(january, 1),
    july: round(july, 1),
    precipitation,
    wettestMonth: latitude < 0 ? 1 : 7,
    seasonality: distance < 25 ? 0.6 : 0.2,
  };
}

function interpolate(table: readonly (readonly [number, number])[], at: number): number {
  for (let index = 1; index < table.length; index += 1) {
    const [x1, y1] = table[index] ?? [0, 0];
    const [x0, y0] = table[index - 1] ?? [0, 0];
    if (at <= x1) return y0 + ((y1 - y0) * (at - x0)) / (x1 - x0);
  }
  return table.at(-1)?.[1] ?? 0;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  const rounded = Math.round(value * factor) / factor;
  return rounded === 0 ? 0 : rounded;
}

/**
 * 32-bit FNV-1a over the UTF-16 code units of `text`, then MurmurHash3's finaliser: FNV alone
 * barely moves the high bits when only the last character changes, which made neighbouring days
 * draw nearly the same numbers.
 */
function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    value ^= text.charCodeAt(index);
    value = Math.imul(value, 0x01000193);
  }
  value ^= value >>> 16;
  value = Math.imul(value, 0x85ebca6b);
  value ^= value >>> 13;
  value = Math.imul(value, 0xc2b2ae35);
  value ^= value >>> 16;
  return value >>> 0;
}
