import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  const log = process.env.IMAGEGEN_IMPORTS_LOG;
  if (log && result.url.includes('/src/')) appendFileSync(log, `${result.url}\n`);
  return result;
}
