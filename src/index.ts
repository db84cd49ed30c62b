// The edge-safe entry: no Node-only modules. Files, the CLI and the emulator are in ai-imagegen/node.
export { generateImages, prepareGeneration } from './generate.js';
export type { CallReport, GenerateImagesOptions, GenerateImagesResult, PreparedGeneration } from './generate.js';
export type { TelemetryAttributeValue, TelemetryOptions, TelemetrySettings } from './telemetry/settings.js';
export type { TelemetrySpan, TelemetryTracer } from './telemetry/open-telemetry.js';
export type { ImageGenerationEndEvent, ImageGenerationStartEvent } from './telemetry/integrations.js';
export { GeneratedImage } from './image.js';
export type { GeneratedImageMetadata, ImageTimings } from './image.js';
export { generateRequestSchema, parseRequest, SIZE_PRESETS, DEFAULT_MODEL } from './pipeline/parse.js';
export type { GenerateRequest, SizePreset } from './pipeline/parse.js';
export type { ImagegenWarning, Plan, ResolvedRequest } from './pipeline/plan.js';
export { Budget } from './pipeline/budget.js';
export type { Reservation } from './pipeline/budget.js';
export { actualCallCostUsd, priceDrift, PRICE_DRIFT_TOLERANCE } from './pipeline/cost.js';
export type { ImageUsage } from './pipeline/cost.js';
export {
  clearLiveModels,
  estimateCost,
  findModel,
  formatPrice,
  listModels,
  liveModelList,
  parsePrice,
  pricePerImage,
  registerLiveModels,
  resolveModel,
  setPriceOverrides,
} from './models/catalog.js';
export { RATIO_DIMENSIONS } from './shared/sizing.js';
export type { Deprecation, ImageInput, LiveModel, LiveModelList, ModelCapabilities, Price, Sizing } from './models/catalog.js';
export { suggestModel } from './models/did-you-mean.js';
export { isRetired } from './models/retired.js';
export { compareWithCatalog, fetchLiveModels, refreshModelList } from './models/live-models.js';
export type { CatalogComparison, FetchLiveModelsOptions } from './models/live-models.js';
export { catalogMiddleware, imageModel } from './middleware.js';
export { imageGenerationTool } from './tool.js';
export type { ImageGenerationToolInput, ImageGenerationToolOptions, ImageGenerationToolOutput } from './tool.js';
export { createLocalImageModel } from './providers/local.js';
export type { LocalImageModelOptions } from './providers/local.js';
export { TOGETHER_ENVIRONMENT_VARIABLES, togetherMetadataFetch } from './providers/together/index.js';
export type { ImageProviderLike, ProviderRegistryLike, ProvidersOption } from './models/resolve-model.js';
export {
  BudgetExceededError,
  ImagegenError,
  InsufficientCreditsError,
  InvalidApiKeyError,
  InvalidRequestError,
  InvalidResponseError,
  MissingApiKeyError,
  MissingProviderPackageError,
  ModelAccessError,
  ModelNotFoundError,
  NoImageError,
  ProviderError,
  RateLimitError,
  RetiredModelError,
  SafetyCheckerError,
  TimeoutError,
} from './errors/errors.js';
export type { ImagegenErrorKind, RequestIssue, TimeoutFields } from './errors/errors.js';
export { observeCredentials } from './errors/redaction.js';
// Shared by app instances (issue 21): a seeded-image cache on any key-value storage, a limiter's shape.
export { imageCacheKey, StorageImageCache } from './sharing/image-cache.js';
export type { CachedImage, KeyValueStorage, PruneResult, SeededImageCache, StorageImageCacheOptions } from './sharing/image-cache.js';
export type { RequestLimiter } from './sharing/limiter.js';
