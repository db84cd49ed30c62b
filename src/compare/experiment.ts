import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InvalidRequestError } from '../errors.js';
import { generateRequestSchema, zodIssues, type GenerateRequest } from '../request.js';

const settingValues = <T extends z.ZodType>(schema: T) => z.array(schema).min(1, 'must list at least one value');

/** An experiment: the matrix prompts × models × seeds × settings, and what every cell shares. */
export const experimentSchema = z
  .object({
    name: z.string().trim().min(1).optional(),
    prompts: z.array(z.string().trim().min(1, 'must be a non-empty string')).min(1, 'must list at least one prompt'),
    /** `"provider:modelId"` each. */
    models: z.array(generateRequestSchema.shape.model.unwrap()).min(1, 'must list at least one model'),
    /** @default [1] — fixed, so a re-run resumes and seeded cells come from the cache */
    seeds: z.array(z.number().int('must be whole numbers').min(0)).min(1).default([1]),
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

/** Validates an experiment; throws `InvalidRequestError` naming every bad field. */
export function parseExperiment(input: unknown): ParsedExperiment {
  const result = experimentSchema.safeParse(input);
  if (!result.success) {
    throw new InvalidRequestError({ issues: zodIssues(result.error, input), context: 'experiment' });
  }
  return result.data;
}

/** Reads an experiment from a `.json`, `.yaml` or `.yml` file. */
export async function loadExperimentFile(file: string): Promise<ParsedExperiment> {
  const text = await readFile(file, 'utf8');
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError({
      issues: [{ field: file, value: undefined, message: `is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(error as Error).message}` }],
      context: 'experiment file',
    });
  }
  return parseExperiment(data);
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
