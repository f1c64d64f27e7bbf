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
  {
    name: 'setup',
    summary:
      'install the nucleus as a systemd service on a root (user, group, config, unit), or uninstall it',
    load: async () => (await import('./setup-command.js')).setupCommand,
  },
  {
    name: 'status',
    summary: "a running nucleus's components, their states and versions, and its last local deployment",
    load: async () => (await import('./status-command.js')).statusCommand,
  },
  {
    name: 'logs',
    summary: 'print or follow (-f) the nucleus log or a component log',
    load: async () => (await import('./logs-command.js')).logsCommand,
  },
  {
    name: 'top',
    summary:
      "a running nucleus's telemetry (CPU, memory, states) refreshed live, or a local cloud's received telemetry",
    load: async () => (await import('./top-command.js')).topCommand,
  },
];
