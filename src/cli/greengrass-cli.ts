#!/usr/bin/env node
// `greengrass-cli`: the Greengrass CLI compatible commands. They talk to a running nucleus over its IPC
// socket only; none exists yet, so every command is listed and answers "not supported yet".
import { runProgram } from './command.js';

process.exitCode = await runProgram(
  'greengrass-cli',
  'Greengrass CLI compatible commands (talk to a running Tendril nucleus over IPC). Not supported yet.',
  [],
  process.argv.slice(2),
);
