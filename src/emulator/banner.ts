import { FAULT_KINDS, HEADERS } from './faults.js';

/**
 * The text the CLI prints at start: the base URL, how to point ai-imagegen, curl and Together's
 * SDKs at it, and the control endpoints.
 * @example console.log(describeEmulator(emulator.url, { apiKey: 'KEY' }))
 */
export function describeEmulator(url: string, { apiKey }: { apiKey?: string | undefined } = {}): string {
  const base = url.replace(/\/+$/, '');
  const origin = base.replace(/\/v1$/, '');
  const key = apiKey ?? 'emulator';
  return [
    `Together emulator listening on ${base}`,
    '',
    'Point ai-imagegen at it:',
    `  export TOGETHER_BASE_URL=${base} TOGETHER_API_KEY=${key}`,
    '',
    'Try it with curl:',
    `  curl -s ${base}/images/generations \\`,
    `    -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\`,
    `    -d '{"model":"black-forest-labs/FLUX.1-schnell","prompt":"a lighthouse at dusk","width":256,"height":256,"response_format":"base64"}'`,
    '',
    "Together's SDKs:",
    `  TypeScript: new Together({ apiKey: '${key}', baseURL: '${base}' })`,
    `  Python:     Together(api_key="${key}", base_url="${base}")`,
    '',
    `Stats: curl ${origin}/_emulator/stats    Reset: curl -X POST ${origin}/_emulator/reset`,
    `Per request: ${HEADERS.latency}: 300, ${HEADERS.failStatus}: 503, ${HEADERS.fault}: ${FAULT_KINDS.join('|')}`,
  ].join('\n');
}
