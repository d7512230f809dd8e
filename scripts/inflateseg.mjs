#!/usr/bin/env node
// The `inflateseg` command (package.json "bin"): registers tsx so Node can load the TypeScript sources, then runs
// the CLI in src/cli/main.ts and exits with its status (Dawn's handles would otherwise keep the process alive).
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { main, processIo } = await import('../src/cli/main.ts');
const io = processIo();
const code = await main(process.argv.slice(2), io);
io.dispose();
process.exit(code);
