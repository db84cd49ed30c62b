/**
 * Prints a MODEL_SALT for src/placeholder/background.ts under which the catalog's current Together models
 * each get their own placeholder look and the FLUX models (with local:placeholder) their own hue.
 * Run it when a catalog change makes test/render.test.ts's "own look" test fail.
 */
import { listModels } from '../src/models/catalog.js';
import { hashString, scramble } from '../src/placeholder/background.js';

const current = [...listModels({ provider: 'togetherai' }).filter((model) => model.deprecated === undefined).map((model) => model.modelId), 'local:placeholder'];
const flux = current.filter((model) => model.startsWith('black-forest-labs/') || model === 'local:placeholder').map(hashString);
const all = current.map(hashString);

const distinct = (hashes: number[], salt: number, look: (hash: number) => number) => new Set(hashes.map((hash) => look(scramble(hash ^ salt)))).size === hashes.length;
for (let salt = 1; salt < 2 ** 31; salt++) {
  if (distinct(flux, salt, (hash) => hash % 12) && distinct(all, salt, (hash) => (hash % 12) * 4 + ((hash >>> 8) % 4))) {
    console.log(`MODEL_SALT = 0x${salt.toString(16)}`);
    break;
  }
}
