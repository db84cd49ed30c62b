// Bundles worker.js for the edge as a bundler configured for edge runtimes would (no Node platform,
// the edge/worker/browser export conditions), then runs it in Vercel's edge-runtime and fetches the
// URLs given as arguments. Prints one JSON line: the bundle's inputs and each response. Nothing is
// configured for ai-imagegen: its optional provider packages (not installed here) are left to run time.
import { build } from 'esbuild';
import { EdgeRuntime } from 'edge-runtime';

const bundle = await build({
  entryPoints: ['worker.js'],
  bundle: true,
  write: false,
  format: 'iife',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  conditions: ['edge-light', 'worker', 'browser', 'import', 'default'],
  metafile: true,
  logLevel: 'error',
});
const inputs = Object.keys(bundle.metafile.inputs);
const runtime = new EdgeRuntime({ initialCode: bundle.outputFiles[0].text });

const responses = [];
for (const url of process.argv.slice(2)) {
  const response = await runtime.dispatchFetch(url);
  const bytes = new Uint8Array(await response.arrayBuffer());
  await response.waitUntil();
  const type = response.headers.get('content-type') ?? '';
  responses.push({
    url,
    status: response.status,
    contentType: type,
    images: response.headers.get('x-images'),
    requests: response.headers.get('x-requests'),
    ...(type.startsWith('image/') ? { base64: Buffer.from(bytes).toString('base64') } : { body: JSON.parse(new TextDecoder().decode(bytes)) }),
  });
}
console.log(JSON.stringify({ inputs, bytes: bundle.outputFiles[0].contents.length, responses }));
