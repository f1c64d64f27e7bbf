// The persisted config store: boot-time load and recovery [CF-17], the appending tlog, effectiveConfig.yaml [CF-19].
import { mkdir, rename, truncate, unlink, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { Configuration, DEFAULT_TIMESTAMP, type Clock, type SetOptions } from './configuration.js';
import { commitFile, exists } from './files.js';
import { readConfigFile } from './init-config.js';
import type { JsonObject, JsonValue } from './json.js';
import type { UpdateBehaviourTree, UpdateMapOptions } from './behaviour.js';
import { applyTlog, dumpTlog, lineForChange, readTlogFile, type ParsedTlog } from './tlog.js';
import { TlogWriter, type TlogWriterStats } from './tlog-writer.js';

export interface OpenConfigStoreOptions {
  /** The Greengrass root; files live in `<root>/config`. */
  root: string;
  /** `--config`: replaces the config, ignoring existing tlogs [CF-17 step 1]. */
  configFile?: string;
  /** `--init-config`: merged with its mtime as timestamp [CF-17 step 3]. */
  initConfigFile?: string;
  clock?: Clock;
  /** Compaction threshold (default 15,000) [CF-14]. */
  maxTlogEntries?: number;
  /** Delay before rewriting effectiveConfig.yaml after a change (default 1000 ms); 0 disables the rewrite. */
  effectiveConfigDebounceMs?: number;
  onError?: (err: unknown) => void;
  /**
   * How long sync() keeps waiting for the tlog writer's retries when a write fails (a full disk
   * that frees up) before it rejects (default 10 s); the lines stay queued either way.
   */
  syncRetryMs?: number;
  /** Called for each failed tlog write (its lines are kept and retried after `retryInMs`). */
  onWriteError?: (err: unknown, retryInMs: number) => void;
}

export const DEFAULT_SYNC_RETRY_MS = 10_000;

/** Where the boot-time config came from. */
export type ConfigSource =
  | 'config-file'
  | 'config.tlog'
  | 'config.tlog~'
  | 'bootstrap.tlog'
  | 'bootstrap.tlog~'
  | 'init-config'
  | 'empty';

export class ConfigStore {
  private effectiveTimer: NodeJS.Timeout | undefined;
  private effectiveWrite: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly config: Configuration,
    readonly configDir: string,
    readonly source: ConfigSource,
    private readonly writer: TlogWriter,
    private readonly debounceMs: number,
    private readonly onError: (err: unknown) => void,
    private readonly syncRetryMs: number,
  ) {
    config.onChange((kind, node) => {
      const line = lineForChange(kind, node);
      if (!line) return;
      writer.append(line);
      this.scheduleEffectiveConfig();
    });
  }

  get tlogFile(): string {
    return join(this.configDir, 'config.tlog');
  }

  get stats(): TlogWriterStats {
    return this.writer.stats;
  }

  /** [CF-17] Loads, recovers, rewrites what must be rewritten, then attaches the appending writer. */
  static async open(opts: OpenConfigStoreOptions): Promise<ConfigStore> {
    const dir = join(opts.root, 'config');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const config = new Configuration({ clock: opts.clock });
    const tlog = join(dir, 'config.tlog');
    let source: ConfigSource = 'empty';
    let fromConfigTlog: ParsedTlog | undefined;

    if (opts.configFile) {
      await loadConfigFile(config, opts.configFile);
      source = 'config-file';
    } else {
      if (await exists(`${tlog}.old`)) await rename(`${tlog}.old`, tlog);
      await unlink(`${tlog}+`).catch(() => undefined);
      for (const name of ['config.tlog', 'config.tlog~', 'bootstrap.tlog', 'bootstrap.tlog~'] as const) {
        const parsed = await readTlogFile(join(dir, name)).catch(() => undefined);
        if (!parsed) continue;
        applyTlog(config, parsed.lines);
        source = name;
        if (name === 'config.tlog') fromConfigTlog = parsed;
        break;
      }
    }
    const init = opts.initConfigFile ?? (source === 'empty' ? join(dir, 'config.yaml') : undefined);
    if (init && (opts.initConfigFile || (await exists(init)))) {
      await loadConfigFile(config, init);
      if (source === 'empty') source = 'init-config';
      if (opts.initConfigFile) fromConfigTlog = undefined;
    }
    config.set(['system', 'rootpath'], opts.root, { timestamp: DEFAULT_TIMESTAMP });

    if (!(await exists(join(dir, 'bootstrap.tlog'))))
      await commitFile(join(dir, 'bootstrap.tlog'), dumpTlog(config));
    if (!fromConfigTlog) await commitFile(tlog, dumpTlog(config));
    else if (fromConfigTlog.tornTail) await truncate(tlog, fromConfigTlog.validBytes);
    else if (fromConfigTlog.missingFinalNewline) await appendFile(tlog, '\n');

    const onError = opts.onError ?? (() => undefined);
    const writer = await TlogWriter.open(tlog, {
      maxEntries: opts.maxTlogEntries,
      dump: () => dumpTlog(config),
      onCompactionError: onError,
      onWriteError: opts.onWriteError,
    });
    const store = new ConfigStore(
      config,
      dir,
      source,
      writer,
      opts.effectiveConfigDebounceMs ?? 1000,
      onError,
      opts.syncRetryMs ?? DEFAULT_SYNC_RETRY_MS,
    );
    await store.writeEffectiveConfig();
    return store;
  }

  private transactionDepth = 0;
  private readonly transactionEndListeners = new Set<() => void>();

  /** True while a multi-step update (a deployment's activation or rollback) is in flight. */
  get inTransaction(): boolean {
    return this.transactionDepth > 0;
  }

  /**
   * Runs a multi-step update as one unit for the readers that must not act on a half-written tree
   * (the nucleus's reconciler, like the Java nucleus's waitConfigUpdateComplete [LC-16]): they check
   * `inTransaction` and are told when the outermost transaction ends. Writes stay individually durable.
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    this.transactionDepth++;
    try {
      return await fn();
    } finally {
      if (--this.transactionDepth === 0) for (const l of [...this.transactionEndListeners]) l();
    }
  }

  onTransactionEnd(listener: () => void): () => void {
    this.transactionEndListeners.add(listener);
    return () => this.transactionEndListeners.delete(listener);
  }

  /**
   * Resolves when every change made so far is durable in the tlog. When a write fails (disk full),
   * waits for the writer's retries up to `syncRetryMs`, then rejects with the write's error; the
   * change stays in memory and queued for the tlog.
   */
  async sync(): Promise<void> {
    const deadline = Date.now() + this.syncRetryMs;
    for (;;) {
      try {
        return await this.writer.sync();
      } catch (e) {
        if (this.closed || Date.now() >= deadline) throw e;
      }
    }
  }

  /** Newer-wins write [CF-03]; resolves (with whether it changed) once durable. */
  async set(path: readonly string[], value: unknown, opts?: SetOptions): Promise<boolean> {
    const changed = this.config.set(path, value, opts);
    await this.sync();
    return changed;
  }

  async remove(path: readonly string[], opts?: SetOptions): Promise<boolean> {
    const removed = this.config.remove(path, opts);
    await this.sync();
    return removed;
  }

  async updateMap(
    map: JsonObject,
    tree: UpdateBehaviourTree,
    opts?: UpdateMapOptions & { at?: readonly string[] },
  ): Promise<void> {
    this.config.updateMap(map, tree, opts);
    await this.sync();
  }

  async merge(map: JsonObject, opts?: { at?: readonly string[]; timestamp?: number }): Promise<void> {
    this.config.merge(map, opts);
    await this.sync();
  }

  /** Compacts the tlog now (after a rollback) [CF-16]. */
  truncateNow(): Promise<void> {
    return this.writer.truncateNow();
  }

  private scheduleEffectiveConfig(): void {
    if (this.debounceMs <= 0 || this.effectiveTimer || this.closed) return;
    this.effectiveTimer = setTimeout(() => {
      this.effectiveTimer = undefined;
      this.writeEffectiveConfig().catch(this.onError);
    }, this.debounceMs);
    this.effectiveTimer.unref();
  }

  /** [CF-19] `services` and `system` only, as YAML, written atomically. */
  writeEffectiveConfig(): Promise<void> {
    const text = effectiveConfigYaml(this.config);
    this.effectiveWrite = this.effectiveWrite
      .catch(() => undefined)
      .then(() => commitFile(join(this.configDir, 'effectiveConfig.yaml'), text));
    return this.effectiveWrite;
  }

  /** Flushes the tlog and effectiveConfig.yaml and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.effectiveTimer) {
      clearTimeout(this.effectiveTimer);
      this.effectiveTimer = undefined;
      await this.writeEffectiveConfig().catch(this.onError);
    }
    await this.effectiveWrite.catch(() => undefined);
    await this.writer.close();
  }
}

async function loadConfigFile(config: Configuration, file: string): Promise<void> {
  const content = await readConfigFile(file);
  if (content.kind === 'tlog') applyTlog(config, content.lines);
  else config.merge(content.map, { timestamp: content.mtimeMs });
}

/** The YAML text of effectiveConfig.yaml [CF-19]; integers beyond 2^53 are written as strings. */
export function effectiveConfigYaml(config: Configuration): string {
  const doc: JsonObject = {};
  for (const key of ['system', 'services']) {
    const n = config.find([key]);
    if (n) doc[n.name] = stripMemoryOnly(n.toJson());
  }
  return yaml.dump(doc, {
    noRefs: true,
    lineWidth: -1,
    replacer: (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
  });
}

function stripMemoryOnly(v: JsonValue): JsonValue {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('_')) out[k] = stripMemoryOnly(x);
  return out;
}
