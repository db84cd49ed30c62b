/**
 * The toolkit's advice in each door's words. Messages are written once, for the library (options,
 * functions); the CLI and the MCP server pass every message and warning through `inDoorWords`, so
 * that a shell user reads flags and environment variables and an MCP client reads tool names.
 */
export type Door = 'library' | 'shell' | 'mcp';

type Phrase = Record<Door, string>;

/** Each piece of advice as the library words it, and as the other doors do. */
export const ADVICE = {
  listModels: {
    library: '`listModels()`',
    shell: '`imagegen models`',
    mcp: 'the list_models tool',
  },
  listTogetherModels: {
    library: "`listModels({ provider: 'togetherai' })`",
    shell: '`imagegen models --provider togetherai`',
    mcp: 'list_models with provider: "togetherai"',
  },
  modelsTakingImages: {
    library: '`listModels()` names the models that do (their `imageInput`)',
    shell: '`imagegen models` names the models that do (the "img in" column)',
    mcp: 'list_models names the models that do (their referenceImages)',
  },
  refreshModels: {
    library: '`refreshModelList()`',
    shell: '`imagegen models --refresh`',
    mcp: 'list_models with refresh: true',
  },
  providerInstance: {
    library: 'or pass a configured provider instance in options.providers',
    shell:
      'or try it offline: `-m local:placeholder` draws placeholder pictures with no key, and `imagegen emulator` serves a local Together (it prints the TOGETHER_BASE_URL and TOGETHER_API_KEY to export)',
    mcp: 'in the env of this MCP server\'s entry in the client\'s config, or call generate_image with model "local:placeholder" (placeholder pictures, no key)',
  },
  safetyCheckerOff: {
    library: 'set safetyChecker: false',
    shell: 'pass --no-safety-checker',
    mcp: 'change the prompt (this server keeps the safety checker on)',
  },
  skipInvalid: {
    library: 'set skipInvalid: true',
    shell: 'run again with --skip-invalid',
    mcp: 'leave out the invalid requests',
  },
  fewerCalls: {
    library: 'Lower concurrency or raise maxRetries',
    shell: 'Lower --concurrency (batch, compare) or raise --max-retries',
    mcp: 'Wait a minute and call again',
  },
} as const satisfies Record<string, Phrase>;

/** `text` (a message written for the library) in the words of `door`. */
export function inDoorWords(text: string, door: Door): string {
  if (door === 'library') return text;
  let result = text;
  // Longest first: one piece of advice may hold another (`listModels()` names the models that do).
  const phrases = (Object.values(ADVICE) as Phrase[]).sort((first, second) => second.library.length - first.library.length);
  for (const phrase of phrases) result = result.split(phrase.library).join(phrase[door]);
  return result;
}
