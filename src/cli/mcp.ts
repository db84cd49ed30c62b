import { Command } from 'commander';
import path from 'node:path';
import { ImagegenError, InvalidRequestError, redactSecrets } from '../errors/errors.js';
import { resolveModelReference } from '../models/resolve-model.js';
import { loadTogetherApiKey } from '../providers/together/settings.js';
import { DEFAULT_MODEL } from '../pipeline/parse.js';
import { budgetFlag, LOCAL_FALLBACK_MODEL, UsageError, wholeNumber, type CommandContext } from './output.js';
import { VERSION } from '../version.js';

type McpFlags = { out: string; model?: string; allowModels?: string; maxCount: string; maxCost?: string; allowDir?: string[] };

/** `imagegen mcp`: an MCP server on stdio with `generate_image` and `list_models`. */
export function mcpCommand({ io, stop, telemetry }: CommandContext): Command {
  return new Command('mcp')
    .description('serve generate_image and list_models to MCP clients over stdio (logs on stderr)')
    .option('-o, --out <dir>', 'where images and sidecars are saved', './out')
    .option('-m, --model <provider:model>', `default model (${DEFAULT_MODEL}; ${LOCAL_FALLBACK_MODEL} when no key is set)`)
    .option('--allow-models <list>', 'comma-separated models a call may choose (default: any)')
    .option('--max-count <n>', 'most images in one call', '4')
    .option('--max-cost <usd>', 'the most all calls together may cost (actual where reported, else estimated); calls past it are refused')
    .option('--allow-dir <dir>', 'a folder referenceImages may name files in (repeatable; default: --out and the working directory)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .action(async (flags: McpFlags) => {
      const log = (line: string) => io.stderr(`${redactSecrets(line)}\n`);
      const maxCount = wholeNumber('--max-count', flags.maxCount, 1, 100);
      const maxCostUsd = flags.maxCost === undefined ? undefined : budgetFlag('--max-cost', flags.maxCost);
      let model = flags.model;
      if (model === undefined) {
        model = loadTogetherApiKey() === undefined ? LOCAL_FALLBACK_MODEL : DEFAULT_MODEL;
        if (model === LOCAL_FALLBACK_MODEL) log(`No TOGETHER_API_KEY set: using ${LOCAL_FALLBACK_MODEL}, an offline placeholder renderer (not a diffusion model).`);
      }
      // Each model as a call will name it: resolved (a bare id gets its provider), or a usage error.
      const canonical = (flag: string, reference: string): string => {
        try {
          return resolveModelReference(reference).reference;
        } catch (error) {
          const why = InvalidRequestError.isInstance(error) ? error.issues.map((issue) => issue.message).join('; ') : String(error);
          throw new UsageError(`${flag} ${JSON.stringify(reference)} ${why}`);
        }
      };
      model = canonical('--model', model);
      const allowModels = flags.allowModels?.split(',').map((entry) => entry.trim()).filter(Boolean).map((entry) => canonical('--allow-models', entry));
      if (allowModels !== undefined && allowModels.length === 0) throw new UsageError('--allow-models must list at least one model');

      // stdout carries the protocol only: anything printed with console.log goes to stderr instead.
      for (const method of ['log', 'info', 'debug'] as const) console[method] = (...args: unknown[]) => console.error(...args);
      // Loaded here only, so neither the library entries nor the other commands load the MCP SDK.
      const { serveOverStdio } = await import('../mcp/server.js').catch((error: unknown) => {
        // An optional peer: a library install does not pull an MCP SDK (and its HTTP server) it never uses.
        if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND' || !String(error).includes('@modelcontextprotocol/sdk')) throw error;
        throw new ImagegenError({
          kind: 'missing-package',
          message:
            'imagegen mcp needs the package @modelcontextprotocol/sdk, which is not installed. Run: npm install @modelcontextprotocol/sdk ' +
            '(or start the server with: npx -y -p ai-imagegen -p @modelcontextprotocol/sdk imagegen mcp)',
          cause: error,
        });
      });
      const outDir = path.resolve(io.cwd, flags.out);
      const allowDirs = flags.allowDir === undefined ? [outDir, io.cwd] : flags.allowDir.map((dir) => path.resolve(io.cwd, dir));
      await serveOverStdio({ outDir, model, allowModels, maxCount, version: VERSION, log, signal: stop, allowDirs, maxCostUsd, ...telemetry() });
    });
}
