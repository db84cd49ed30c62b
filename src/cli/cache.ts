import { Command } from 'commander';
import path from 'node:path';
import { defaultCacheDir } from '../files/cache-dir.js';
import { parseByteSize } from '../util/units.js';
import { DEFAULT_CACHE_MAX_SIZE } from './batch.js';
import type { CommandContext } from './output.js';
import { parseFlag } from './output.js';

type PruneFlags = { cache?: string; cacheDir?: string; maxSize: string; json?: boolean };

/** `imagegen cache prune`: keeps the cache of seeded requests under its size cap. */
export function cacheCommand({ io }: CommandContext): Command {
  const command = new Command('cache').description('the cache of seeded requests (a folder, or Redis)');
  command
    .command('prune')
    .description('drop the least recently used images until the cache is under --max-size, and any image no request lists')
    .option('--cache <redis-url>', 'a cache in Redis: redis://HOST:PORT[/DB] (default: the cache folder)')
    .option('--cache-dir <dir>', 'cache folder (default $IMAGEGEN_CACHE_DIR or ~/.cache/ai-imagegen)')
    .option('--max-size <size>', 'size cap, e.g. 500MB, 5GB', DEFAULT_CACHE_MAX_SIZE)
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: PruneFlags) => {
      const maxBytes = parseFlag('--max-size', flags.maxSize, parseByteSize);
      const { openSharedCache } = await import('../queue/shared-cache.js');
      const where = flags.cache ?? (flags.cacheDir ? path.resolve(io.cwd, flags.cacheDir) : defaultCacheDir(io.env));
      const opened = await openSharedCache(flags.cache === undefined ? { kind: 'dir', dir: where } : { kind: 'redis', url: flags.cache });
      try {
        const result = await opened!.cache.prune({ maxBytes });
        if (flags.json) io.stdout(`${JSON.stringify({ cache: flags.cache === undefined ? where : 'redis', maxBytes, ...result })}\n`);
        else {
          io.stderr(
            `cache ${flags.cache === undefined ? where : 'in Redis'}: ${megabytes(result.bytesBefore)} → ${megabytes(result.bytesAfter)} (cap ${megabytes(maxBytes)}); ` +
              `removed ${result.removedRequests} request(s) and ${result.removedObjects} image file(s)\n`,
          );
        }
      } finally {
        await opened!.close();
      }
    });
  return command;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
