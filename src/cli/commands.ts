// The table of `tendril` commands; each lives in its own file and is loaded only when it runs.
import type { CommandEntry } from './command.js';

export const commands: CommandEntry[] = [
  {
    name: 'demo',
    summary: 'the main job: local cloud + nucleus + example components, state shown live until Ctrl-C',
    load: async () => (await import('./demo-command.js')).demoCommand,
  },
  {
    name: 'run',
    summary: 'run the nucleus daemon on a root directory until SIGTERM/SIGINT',
    load: async () => (await import('./run-command.js')).runCommand,
  },
  {
    name: 'recipe',
    summary: 'validate recipe files, or show the service configuration a recipe yields on a platform',
    load: async () => (await import('./recipe-command.js')).recipeCommand,
  },
  {
    name: 'localcloud',
    summary: 'run the offline Greengrass V2 cloud, or provision a device against it',
    load: async () => (await import('./localcloud-command.js')).localcloudCommand,
  },
  {
    name: 'deployment',
    summary: 'create, follow, list and cancel local deployments on a running nucleus',
    load: async () => (await import('./tendril-deployment.js')).deploymentCommand,
  },
  {
    name: 'component',
    summary: 'list, inspect, restart and stop the components of a running nucleus',
    load: async () => (await import('./tendril-component.js')).componentCommand,
  },
];
