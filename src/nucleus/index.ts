// Public face of src/nucleus: boot and wiring of the daemon.
export { Nucleus, type NucleusOptions } from './nucleus.js';
export { createRootLayout, rootPaths, type RootPaths } from './root-layout.js';
export { acquireInstanceLock, InstanceLockedError } from './instance-lock.js';
export {
  readNucleusSettings,
  type NucleusSettings,
  DEFAULT_NUCLEUS_NAME,
  TENDRIL_VERSION,
} from './nucleus-config.js';
export { serviceDefinitions } from './service-definitions.js';
export { findExecutable, SystemdNotifier } from './systemd-notify.js';
export {
  isLaunched,
  LAUNCHED_ENV,
  MAX_LAUNCH_ATTEMPTS,
  REBOOT_EXIT_CODE,
  RESTART_EXIT_CODE,
  runLaunched,
  runLauncher,
  StopSignal,
  type LauncherOptions,
} from './launcher.js';
