/**
 * The tools module: the tool contract, the registry and the built-in tools.
 */
export {
  defineJsonSchemaTool,
  defineTool,
  isJsonSchemaTool,
  type AnyTool,
  type JsonSchema,
  type JsonSchemaTool,
  type Tool,
  type ToolExecutionContext,
} from './tool.js';
export { ToolRegistry, createDefaultToolRegistry, type ToolSource } from './registry.js';
export {
  evaluateExpression,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
} from './expression-parser.js';
export { calculatorTool, type CalculatorResult } from './calculator.js';
export { datetimeTool, type ZonedMoment } from './datetime.js';
export {
  createOfflineWeatherBackend,
  createWeatherTool,
  DEFAULT_FORECAST_DAYS,
  offlineWeatherBackend,
  weatherTool,
  type DailyForecast,
  type OfflineWeatherOptions,
  type WeatherBackend,
  type WeatherReport,
  type WeatherRequestOptions,
  type WeatherToolResult,
  type WeatherUnits,
} from './weather.js';
export {
  createSearchTool,
  offlineSearchBackend,
  searchTool,
  type SearchBackend,
  type SearchResult,
  type SearchToolResult,
} from './search.js';
