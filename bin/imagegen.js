#!/usr/bin/env node
// The installed CLI runs the compiled JavaScript in dist/ (built by `npm run build`, run on install
// and before packing): no TypeScript loader at run time.
import { processIO, runCli } from '../dist/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2), processIO());
