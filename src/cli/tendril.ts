#!/usr/bin/env node
// The `tendril` command.
import { runProgram } from './command.js';
import { commands } from './commands.js';

process.exitCode = await runProgram(
  'tendril',
  'Tendril: a Greengrass V2 compatible edge runtime with an offline local Greengrass cloud.',
  commands,
  process.argv.slice(2),
);
