// Loaded with `node --import`: records every module of src/cli/ that the process loads, one URL a
// line, in the file named by IMAGEGEN_IMPORTS_LOG (for the test that commands load lazily).
import { register } from 'node:module';

register('./record-imports-hooks.mjs', import.meta.url);
