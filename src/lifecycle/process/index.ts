// Running lifecycle steps as processes: user switch, process groups, cgroup placement, output
// capture, tree kill [LC-67..LC-73, LC-78, LC-82..LC-86].

export {
  ShellProcessLauncher,
  type ShellLauncherOptions,
  type StepOutput,
  DEFAULT_GRACE_MS,
  stepCommand,
} from './launcher.js';
export { runForeground, type ForegroundOptions } from './foreground.js';
export { LineSplitter } from './line-splitter.js';
export { ProcessTree, KILL_WAIT_MS } from './tree-kill.js';
export { type ProcStat, parseStat, readStat, snapshot, descendantsOf, isAlive } from './proc-tree.js';
