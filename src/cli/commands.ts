// The table of `tendril` commands; each lives in its own file.
import type { Command } from './command.js';
import { localcloudCommand } from './localcloud-command.js';
import { recipeCommand } from './recipe-command.js';
import { runCommand } from './run-command.js';

export const commands: Command[] = [runCommand, recipeCommand, localcloudCommand];
