/**
 * The `datetime` tool: the current time in any IANA zone, conversions between zones, formatting,
 * parsing, adding durations and measuring the time between two instants.
 *
 * The current time comes from the injected `context.now()`, so results are deterministic for a
 * given input and clock. Zone helpers live in `time-zone.ts`, parsing and arithmetic in
 * `datetime-operations.ts`.
 */
import { z } from 'zod';
import {
  addDuration,
  CALENDAR_UNITS,
  diffInstants,
  formatInstant,
  parseIsoDateTime,
  resolveInstant,
  UNITS,
} from './datetime-operations.js';
import { canonicalZone, describeInstant, isValidTimeZone, type ZonedMoment } from './time-zone.js';
import { defineTool } from './tool.js';

export type { ZonedMoment };

const OPERATIONS = ['now', 'convert', 'format', 'parse', 'add', 'diff'] as const;

const timeZoneSchema = z
  .string()
  .max(64)
  .refine(isValidTimeZone, {
    error: (issue) =>
      `Unknown time zone "${String(issue.input)}"; use an IANA name such as "Europe/Paris" or "UTC"`,
  });

const isoSchema = z
  .string()
  .max(64)
  .superRefine((value, context) => {
    const parsed = parseIsoDateTime(value);
    if (typeof parsed === 'string') context.addIssue({ code: 'custom', message: parsed });
  });

const REQUIRED_FIELDS = {
  now: [],
  convert: ['to_timezone'],
  format: [],
  parse: ['datetime'],
  add: ['amount', 'unit'],
  diff: ['other'],
} as const satisfies Record<(typeof OPERATIONS)[number], readonly string[]>;

const datetimeParameters = z
  .object({
    operation: z
      .enum(OPERATIONS)
      .describe(
        'now: current time; convert: a time from one zone to another; format: localised text; parse: read an ISO date-time (and its weekday); add: add amount × unit; diff: time from datetime (default now) to other.',
      ),
    timezone: timeZoneSchema
      .optional()
      .describe('IANA zone for the result, and for a datetime without an offset. Default UTC.'),
    from_timezone: timeZoneSchema
      .optional()
      .describe('convert: the zone of a datetime without an offset. Default: timezone, then UTC.'),
    to_timezone: timeZoneSchema.optional().describe('convert: the target zone.'),
    datetime: isoSchema
      .optional()
      .describe(
        'ISO 8601, e.g. 2024-07-01T14:30:00Z or 2024-07-01 14:30 (wall clock), or a time alone (14:30: today). Default now.',
      ),
    other: isoSchema.optional().describe('diff: the second date-time (required).'),
    amount: z.number().optional().describe('add: how many units; negative goes back in time.'),
    unit: z.enum(UNITS).optional().describe('add: the unit of amount.'),
    locale: z
      .string()
      .max(35)
      .refine(isValidLocale, 'expected a BCP 47 locale such as en-US or fr-FR')
      .optional()
      .describe('format: BCP 47 locale. Default en-US.'),
  })
  .superRefine((parameters, context) => {
    for (const field of REQUIRED_FIELDS[parameters.operation]) {
      if (parameters[field] !== undefined) continue;
      context.addIssue({
        code: 'custom',
        path: [field],
        message: `"${field}" is required when operation is "${parameters.operation}"`,
      });
    }
    const { amount, unit } = parameters;
    if (
      amount !== undefined &&
      unit !== undefined &&
      CALENDAR_UNITS.has(unit) &&
      !Number.isInteger(amount)
    ) {
      context.addIssue({
        code: 'custom',
        path: ['amount'],
        message: `expected a whole number of ${unit}; use hours or minutes for fractions`,
      });
    }
  });

/**
 * Dates, times and time zones for the agent. Every operation that shows an instant returns it as
 * a {@link ZonedMoment}; `now` reads the injected clock (`context.now()`), never the system one.
 *
 * @example
 * await registry.execute('datetime', { operation: 'now', timezone: 'Asia/Tokyo' }, context);
 * // { iso: '2024-07-01T21:30:00+09:00', timezone: 'Asia/Tokyo', local: '2024-07-01 21:30:00',
 * //   weekday: 'Monday', utc_offset: '+09:00' }
 */
export const datetimeTool = defineTool({
  name: 'datetime',
  description:
    'Current date and time in any IANA time zone, converting times between zones, formatting, parsing ISO 8601, adding durations and the time between two date-times.',
  parameters: datetimeParameters,
  execute(parameters, context) {
    const zone = canonicalZone(parameters.timezone ?? 'UTC');
    const instant = (value: string | undefined, inZone: string): number =>
      value === undefined ? context.now() : resolveInstant(value, inZone, context.now());
    switch (parameters.operation) {
      case 'now':
        return describeInstant(context.now(), zone);
      case 'convert': {
        const fromZone = canonicalZone(parameters.from_timezone ?? parameters.timezone ?? 'UTC');
        const at = instant(parameters.datetime, fromZone);
        const toZone = canonicalZone(parameters.to_timezone ?? 'UTC');
        return { from: describeInstant(at, fromZone), to: describeInstant(at, toZone) };
      }
      case 'format':
        return formatInstant(
          instant(parameters.datetime, zone),
          zone,
          parameters.locale ?? 'en-US',
        );
      case 'parse': {
        const at = instant(parameters.datetime, zone);
        return { ...describeInstant(at, zone), utc: new Date(at).toISOString(), epoch_ms: at };
      }
      case 'add':
        return addDuration(instant(parameters.datetime, zone), zone, parameters);
      case 'diff': {
        const from = instant(parameters.datetime, zone);
        const to = instant(parameters.other, zone);
        return diffInstants(from, to);
      }
    }
  },
});

function isValidLocale(locale: string): boolean {
  try {
    return Intl.getCanonicalLocales(locale).length === 1;
  } catch {
    return false;
  }
}
