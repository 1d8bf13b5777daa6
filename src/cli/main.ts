#!/usr/bin/env node
// The `pycage` executable. Everything lives in ./index.ts; this file only wires in the real process.
import { nodeIo, runCli } from './index.js';

const exitCode = await runCli(process.argv.slice(2), nodeIo());
process.exitCode = exitCode;
