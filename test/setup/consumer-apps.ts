/**
 * vitest global setup: when the run includes the consumer suites (a whole `npm test`, or a filter
 * naming them), pack the tarball and install the consumer apps in the background while the other
 * test files run. The consumer suites wait for their app (a lock per app) and find it installed.
 */
import { prepareConsumerApps } from '../helpers/consumer.js';

let preparing: Promise<void> | undefined;

export function setup(): void {
  const filters = process.argv.slice(2).filter((argument) => !argument.startsWith('-') && argument !== 'run');
  if (process.env.IMAGEGEN_CONSUMER_PREPARE === '0') return;
  if (filters.length > 0 && !filters.some((filter) => 'test/consumer/'.includes(filter) || filter.includes('consumer'))) return;
  // Failures are reported by the suites, whose own install attempt then fails with npm's output.
  preparing = prepareConsumerApps().catch(() => undefined);
}

export async function teardown(): Promise<void> {
  await preparing;
}
