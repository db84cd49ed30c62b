import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod/v4';
import { defaultCacheDir } from '../files/cache-dir.js';
import { parsePrice, setPriceOverrides, type Price } from '../models/catalog.js';
import { loadCachedModelList } from '../files/model-list-cache.js';
import { errorMessage } from '../errors/errors.js';
import { UsageError, type CliIO } from './output.js';

/**
 * What every command starts from besides its flags: price overrides from the config file and
 * `--price`, and the cached live model lists (read from disk, never fetched), so ids a refresh
 * learned are not taken for typos.
 */

/** Looked for in the working directory when neither `--config` nor `IMAGEGEN_CONFIG` names a file. */
export const CONFIG_FILE_NAME = 'imagegen.config.json';

const priceSchema = z.union([
  z.string(),
  z
    .object({ unit: z.enum(['image', 'megapixel']), usd: z.number().nonnegative(), defaultSteps: z.number().int().positive().optional() })
    .strict(),
]);
const configSchema = z.object({ prices: z.record(z.string(), priceSchema).optional() }).strict();

/** Applies the config file and `--price` flags (flags win), and loads the cached live lists. */
export async function applySettings(io: CliIO, { config, price = [] }: { config?: string | undefined; price?: readonly string[] }): Promise<void> {
  const prices: Record<string, Price | string> = { ...(await readConfigPrices(io, config)) };
  for (const flag of price) {
    const separator = flag.lastIndexOf('=');
    if (separator <= 0) throw new UsageError(`--price must be "provider:model=price", like "togetherai:black-forest-labs/FLUX.2-pro=0.03/image" (got ${JSON.stringify(flag)})`);
    prices[flag.slice(0, separator)] = flag.slice(separator + 1);
  }
  try {
    setPriceOverrides(Object.fromEntries(Object.entries(prices).map(([model, value]) => [model, typeof value === 'string' ? parsePrice(value) : value])));
  } catch (error) {
    throw new UsageError(`prices: ${errorMessage(error)}`);
  }
  await loadCachedModelList({ provider: 'togetherai', cacheDir: defaultCacheDir(io.env) });
}

async function readConfigPrices(io: CliIO, explicit: string | undefined): Promise<Record<string, Price | string>> {
  const named = explicit ?? io.env.IMAGEGEN_CONFIG;
  const file = path.resolve(io.cwd, named ?? CONFIG_FILE_NAME);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (named === undefined && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`config file ${file} cannot be read (${errorMessage(error)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config file ${file} is not valid JSON (${errorMessage(error)})`);
  }
  const result = configSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new UsageError(`config file ${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message} (allowed: { "prices": { "provider:model": "0.03/image" | "0.0027/MP@4" } })`);
  }
  // Objects are checked by setPriceOverrides, with the rest.
  return (result.data.prices ?? {}) as Record<string, Price | string>;
}
