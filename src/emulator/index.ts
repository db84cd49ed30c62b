/**
 * The Together-compatible emulator (Node only): `import { startEmulator } from 'ai-imagegen/emulator'`.
 */
export { startEmulator } from './server.js';
export { describeEmulator } from './banner.js';
export type { Emulator, EmulatorOptions, EmulatorStats, RecordedRequest } from './types.js';
export { FAIL_STATUSES, FAULT_KINDS, HEADERS as EMULATOR_HEADERS, parseDuration, parseRateLimit } from './faults.js';
export type { FailRate, FailStatus, FaultKind, FaultRates, LatencyOptions, RateLimitOptions } from './faults.js';
export { DEFAULT_SAFETY_WORDS } from './safety.js';
export type { TogetherErrorBody } from './validate.js';
export { DOCUMENTED_MODELS } from './documented-models.js';
export type { DocumentedModel, DocumentedParameter } from './documented-models.js';
