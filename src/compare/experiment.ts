import { readFile } from 'node:fs/promises';
import { isNode, LineCounter, parseDocument, parse as parseYaml } from 'yaml';
import { z } from 'zod/v4';
import { errorMessage, InvalidRequestError, type RequestIssue } from '../errors/errors.js';
import { generateRequestSchema, valueAt, type GenerateRequest } from '../pipeline/parse.js';
import { resolveModelReference } from '../models/resolve-model.js';

/** A model reference that names no model (an unknown provider, an id no catalog knows) is refused with the file's position. */
function resolvesToModel(reference: string, context: z.RefinementCtx): void {
  try {
    resolveModelReference(reference);
  } catch (error) {
    const message = InvalidRequestError.isInstance(error) ? error.issues.map((issue) => issue.message).join('; ') : errorMessage(error);
    context.addIssue({ code: 'custom', message });
  }
}

const settingValues = <T extends z.ZodType>(schema: T) => z.array(schema).min(1, 'must list at least one value');

/** An experiment: the matrix prompts × models × seeds × settings, and what every cell shares. */
export const experimentSchema = z
  .object({
    name: z.string().trim().min(1).optional(),
    prompts: z.array(z.string().trim().min(1, 'must be a non-empty string')).min(1, 'must list at least one prompt'),
    /** `"provider:modelId"` each, or an id one provider's catalog knows; checked against the built-in providers. */
    models: z.array(generateRequestSchema.shape.model.unwrap().superRefine(resolvesToModel)).min(1, 'must list at least one model'),
    /** @default [1] — fixed, so a re-run resumes and seeded cells come from the cache */
    seeds: z.array(z.number().int('must be a whole number').min(0)).min(1, 'must list at least one seed').default([1]),
    /** Values to vary; every combination becomes a column per model. */
    settings: z
      .object({
        steps: settingValues(z.number().int().positive()).optional(),
        guidance: settingValues(z.number().finite()).optional(),
        size: settingValues(z.string()).optional(),
        aspectRatio: settingValues(z.string()).optional(),
      })
      .strict()
      .default({}),
    size: generateRequestSchema.shape.size,
    aspectRatio: generateRequestSchema.shape.aspectRatio,
    negativePrompt: generateRequestSchema.shape.negativePrompt,
    outputFormat: generateRequestSchema.shape.outputFormat,
    safetyChecker: z.boolean().optional(),
    /** Images every cell edits or follows: file paths or http(s) URLs. */
    referenceImages: z.array(z.string().min(1, 'must be a file path or an http(s) URL')).min(1, 'must list at least one image').optional(),
    /** Where every cell repaints the first reference image (models that take a mask): a file path or an http(s) URL. */
    mask: z.string().min(1, 'must be a file path or an http(s) URL').optional(),
  })
  .strict();

export type Experiment = z.input<typeof experimentSchema>;
export type ParsedExperiment = z.output<typeof experimentSchema>;
export type SettingValue = string | number | boolean;

/** One cell of the matrix: the request it sends and where it sits in the grid. */
export type ExperimentCell = {
  index: number;
  promptIndex: number;
  prompt: string;
  model: string;
  seed: number;
  settings: Record<string, SettingValue>;
  column: string;
  request: GenerateRequest;
};

/**
 * Where a field of an experiment came from, as a person would find it: a flag (`--models #2`) or a
 * file position (`experiment.yaml:4:5 seeds[1]`). The default reads `seeds[1]`, `settings.steps[0]`.
 */
export type LocateField = (path: readonly PropertyKey[]) => string;

/** `["settings", "steps", 0]` → `settings.steps[0]`. */
export function readablePath(path: readonly PropertyKey[]): string {
  return path.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`)).join('') || '(experiment)';
}

const EXPERIMENT_FIELDS = Object.keys(experimentSchema.shape);
const SETTING_FIELDS = Object.keys(experimentSchema.shape.settings.unwrap().shape);

/** Validates an experiment; throws `InvalidRequestError` naming every bad field where it was written. */
export function parseExperiment(input: unknown, { locate = readablePath }: { locate?: LocateField } = {}): ParsedExperiment {
  const result = experimentSchema.safeParse(input);
  if (!result.success) {
    throw new InvalidRequestError({ issues: experimentIssues(result.error, input, locate), context: 'experiment' });
  }
  return result.data;
}

function experimentIssues(error: z.ZodError, input: unknown, locate: LocateField): RequestIssue[] {
  return error.issues.map((issue, position) => {
    if (issue.code === 'unrecognized_keys') {
      const inSettings = issue.path[0] === 'settings';
      return {
        field: issue.keys.map((key) => locate([...issue.path, key])).join(', '),
        value: issue.keys.length === 1 ? issue.keys[0] : issue.keys,
        message: inSettings
          ? `unknown setting; settings can vary: ${SETTING_FIELDS.join(', ')}`
          : `unknown field; an experiment takes: ${EXPERIMENT_FIELDS.join(', ')}`,
      };
    }
    const value = valueAt(input, issue.path);
    const expected = issue.code === 'invalid_type' ? issue.expected : undefined;
    const wholeNumbers = issue.path[0] === 'seeds' || issue.path[1] === 'steps';
    const message =
      issue.code === 'invalid_type' && value === undefined
        ? 'is required'
        : expected === 'number' || expected === 'int'
          ? wholeNumbers ? 'must be a whole number' : 'must be a number'
          : expected === 'array'
            ? 'must be a list'
            : expected !== undefined
              ? `must be a ${expected}`
              : issue.message;
    return { field: locate(issue.path) || `(${position})`, value, message };
  });
}


/** Reads an experiment from a `.json`, `.yaml` or `.yml` file; errors name the file, line and column. */
export async function loadExperimentFile(file: string, { name = file }: { name?: string } = {}): Promise<ParsedExperiment> {
  const text = await readFile(file, 'utf8');
  const yaml = /\.ya?ml$/i.test(file);
  let data: unknown;
  try {
    data = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError({
      issues: [{ field: name, value: undefined, message: `is not valid ${yaml ? 'YAML' : 'JSON'}: ${errorMessage(error)}` }],
      context: 'experiment file',
    });
  }
  return parseExperiment(data, { locate: fileLocator(name, text) });
}

/**
 * `file:line:column field` for a path in a JSON or YAML text (JSON is read as YAML here only to
 * find positions): the deepest node of the path that exists, so a missing field points at its parent.
 */
function fileLocator(name: string, text: string): LocateField {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  return (path) => {
    for (let length = path.length; length >= 0; length--) {
      const node = length === 0 ? document.contents : document.getIn(path.slice(0, length), true);
      if (isNode(node) && node.range) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return `${name}:${line}:${col} ${readablePath(path)}`;
      }
    }
    return `${name} ${readablePath(path)}`;
  };
}

/** Every cell: prompts × seeds (the grid's rows) × models × setting combinations (its columns). */
export function expandExperiment(experiment: ParsedExperiment): ExperimentCell[] {
  const combinations = settingCombinations(experiment.settings);
  const cells: ExperimentCell[] = [];
  experiment.prompts.forEach((prompt, promptIndex) => {
    for (const seed of experiment.seeds) {
      for (const model of experiment.models) {
        for (const settings of combinations) {
          const label = Object.entries(settings).map(([name, value]) => `${name}=${value}`).join(' ');
          cells.push({
            index: cells.length,
            promptIndex,
            prompt,
            model,
            seed,
            settings,
            column: label ? `${model} ${label}` : model,
            request: {
              prompt,
              model,
              seed,
              count: 1,
              ...(experiment.size === undefined ? {} : { size: experiment.size }),
              ...(experiment.aspectRatio === undefined ? {} : { aspectRatio: experiment.aspectRatio }),
              ...(experiment.negativePrompt === undefined ? {} : { negativePrompt: experiment.negativePrompt }),
              ...(experiment.outputFormat === undefined ? {} : { outputFormat: experiment.outputFormat }),
              ...(experiment.safetyChecker === undefined ? {} : { safetyChecker: experiment.safetyChecker }),
              ...(experiment.referenceImages === undefined ? {} : { referenceImages: experiment.referenceImages }),
              ...(experiment.mask === undefined ? {} : { mask: experiment.mask }),
              ...settings,
            } as GenerateRequest,
          });
        }
      }
    }
  });
  return cells;
}

function settingCombinations(settings: ParsedExperiment['settings']): Record<string, SettingValue>[] {
  let combinations: Record<string, SettingValue>[] = [{}];
  for (const [name, values] of Object.entries(settings)) {
    if (values === undefined) continue;
    combinations = combinations.flatMap((combination) => values.map((value) => ({ ...combination, [name]: value })));
  }
  return combinations;
}
