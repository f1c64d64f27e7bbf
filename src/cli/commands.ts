// The table of `tendril` commands; each lives in its own file.
import type { Command } from './command.js';

export const commands: Command[] = [];
