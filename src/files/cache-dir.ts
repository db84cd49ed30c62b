import { homedir } from 'node:os';
import path from 'node:path';

/**
 * `$IMAGEGEN_CACHE_DIR`, else `$XDG_CACHE_HOME/ai-imagegen`, else `~/.cache/ai-imagegen`. Its own
 * file: every command reads it at start (the cached live model lists), and the image cache behind
 * it pulls in the batch input parser.
 */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  return env.IMAGEGEN_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'ai-imagegen');
}
