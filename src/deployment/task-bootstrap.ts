// The kernel-update path of a deployment (spec/config.md CF-95..CF-99, deployment.md DP-46, DP-58):
// bootstrap steps run before activation, one at a time, each result persisted in
// `deployments/<id>/bootstrap_task.json` [CF-66]; exit 100 or 101 ends the task with a restart (or
// reboot) request, and the deployment, still queued, re-runs after the restart skipping the steps
// recorded done. A deployment of the nucleus component at another version installs the Tendril
// package beside the running one (alts/new) and restarts into it; the nucleus that boots finishes the
// deployment (KERNEL_ACTIVATION), or, when the launcher had to go back to the previous version, rolls
// it back (KERNEL_ROLLBACK).
//
// Tendril's decisions: components keep running while bootstrap steps run (the reference stops them
// all first), and when every step returns 0 the deployment goes on without a restart.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { JsonObject } from '../config/index.js';
import type { BootstrapStepOutcome } from '../lifecycle/index.js';
import { bootstrapKey, NUCLEUS_COMPONENT_NAMES, planBootstrap, resolvedNucleus } from './bootstrap-plan.js';
import type { DeploymentDocument } from './document-types.js';
import type { ResolvedComponent } from './resolve.js';
import { DeploymentError, type DeploymentErrorCode, type DeploymentErrorType } from './result.js';
import { deploymentDir, ROLLBACK_SNAPSHOT } from './rollback.js';
import { writeDurably } from './task-progress.js';
import { rollbackToSnapshot, type RollbackResult } from './task-rollback.js';
import { runStage } from './task-stage.js';
import type { TaskContext } from './task.js';

export const BOOTSTRAP_TASKS = 'bootstrap_task.json';

/** Runs a service definition's bootstrap step (the nucleus wires the lifecycle layer to it). */
export interface BootstrapRunner {
  run(component: string, service: JsonObject, signal?: AbortSignal): Promise<BootstrapStepOutcome>;
}

/** The deployment stage the launch directories show at boot [CF-98], without the bootstrap ones. */
export type KernelStage = 'DEFAULT' | 'KERNEL_ACTIVATION' | 'KERNEL_ROLLBACK';

export type PrepareOutcome =
  | { ok: true; dir: string }
  /** `notTendril`: the artifacts hold no Tendril package (e.g. the Java nucleus distribution). */
  | { ok: false; notTendril: boolean; reason: string };

/** What a deployment needs of the nucleus to update it (the nucleus implements it over `alts/`). */
export interface NucleusSelfUpdate {
  /** The version of the running Tendril. */
  readonly runningVersion: string;
  /** [CF-98] as found when this nucleus booted (and updated by commit/finishRollback). */
  stage(): KernelStage;
  /** Installs the package found among the component's artifacts as `alts/new` [CF-96 step 7]. */
  prepare(component: ResolvedComponent, deploymentId: string): Promise<PrepareOutcome>;
  /** [CF-99] success in the new version: drop `alts/old` and the previous launch directory. */
  commit(): Promise<void>;
  /** [CF-99] failure in the new version: current -> broken, old -> current (restart follows). */
  prepareRollback(): Promise<void>;
  /** After KERNEL_ROLLBACK: drop `alts/broken`, its directory and the restart-panic marker [CF-89]. */
  finishRollback(): Promise<{ restartPanic: boolean }>;
}

export interface BootstrapRecord {
  /** bootstrapKey -> exit code of the steps that completed (0, 100 or 101). */
  done: Record<string, number>;
  /** The nucleus update this deployment prepared and restarted for. */
  nucleus?: { component: string; from: string; to: string };
  /** Why the new nucleus version failed the deployment, for the old one to report [CF-99]. */
  failure?: { message: string; codes: DeploymentErrorCode[]; types: DeploymentErrorType[] };
}

export type KernelPhase =
  | { kind: 'none' }
  | { kind: 'continue' }
  | { kind: 'restart'; code: 100 | 101; reason: string; stage: 'BOOTSTRAP' | 'KERNEL_ACTIVATION' }
  | { kind: 'failed'; error: DeploymentError }
  | { kind: 'interrupted' };

export async function readBootstrapRecord(dir: string): Promise<BootstrapRecord> {
  try {
    const r = JSON.parse(await readFile(path.join(dir, BOOTSTRAP_TASKS), 'utf8')) as BootstrapRecord;
    if (r && typeof r === 'object' && r.done && typeof r.done === 'object') return r;
  } catch {
    // absent or torn: nothing recorded
  }
  return { done: {} };
}

export function writeBootstrapRecord(dir: string, r: BootstrapRecord): Promise<void> {
  return writeDurably(path.join(dir, BOOTSTRAP_TASKS), JSON.stringify(r));
}

const bootstrapError = (message: string, timeout = false) =>
  new DeploymentError(
    message,
    [timeout ? 'COMPONENT_BOOTSTRAP_TIMEOUT' : 'COMPONENT_BOOTSTRAP_ERROR'],
    ['COMPONENT_ERROR'],
  );

/** The resolved nucleus component this deployment moves to another version, if any [CF-97]. */
export function nucleusTarget(ctx: TaskContext, resolved: Readonly<Record<string, ResolvedComponent>>) {
  const c = resolvedNucleus(resolved);
  if (!c || !NUCLEUS_COMPONENT_NAMES.includes(c.name)) return undefined;
  if (ctx.selfUpdate && c.version === ctx.selfUpdate.runningVersion) return undefined;
  if (!ctx.selfUpdate || !ctx.canRestart) {
    // configuration only, as before self-update existed
    if (c.name === 'aws.greengrass.Nucleus') return undefined;
    throw new DeploymentError(
      `${c.name}@${c.version}: this nucleus cannot update itself (not supported here)`,
      ['NUCLEUS_RESTART_FAILURE'],
      ['NUCLEUS_ERROR'],
    );
  }
  return c;
}

/**
 * Runs the bootstrap steps this deployment still owes and prepares a nucleus update. `none`: the
 * deployment takes the default path; `continue`: everything ran, activate; `restart`: ask the
 * nucleus to restart (the deployment resumes after it).
 */
export async function runKernelPhase(
  ctx: TaskContext,
  doc: DeploymentDocument,
  current: JsonObject,
  target: JsonObject,
  resolved: Readonly<Record<string, ResolvedComponent>>,
): Promise<KernelPhase> {
  const names = planBootstrap(current, target);
  const nucleus = nucleusTarget(ctx, resolved);
  if (names.length === 0 && !nucleus) return { kind: 'none' };
  const dir = deploymentDir(ctx.root, doc.deploymentId);
  const record = await readBootstrapRecord(dir);
  const log = (m: string) => ctx.log?.(`deployment ${doc.deploymentId}: ${m}`);
  for (const name of names) {
    const key = bootstrapKey(name, target[name]);
    if (record.done[key] !== undefined) continue;
    if (!ctx.bootstrap)
      return { kind: 'failed', error: bootstrapError(`${name}: bootstrap steps are not supported here`) };
    log(`bootstrap of ${name}`);
    const service = target[name] as JsonObject;
    const out = await ctx.bootstrap.run(name, service, ctx.signal);
    if (out.kind === 'aborted') return { kind: 'interrupted' };
    if (out.kind === 'timeout')
      return {
        kind: 'failed',
        error: bootstrapError(`the bootstrap step of ${name} timed out after ${out.seconds} s`, true),
      };
    if (out.kind === 'failed')
      return {
        kind: 'failed',
        error: bootstrapError(`the bootstrap step of ${name} could not run: ${out.reason}`),
      };
    const code = out.kind === 'none' ? 0 : out.code;
    if (code !== 0 && code !== 100 && code !== 101) {
      const how =
        code === null
          ? `was killed by ${out.kind === 'exited' ? out.signal : 'a signal'}`
          : `exited with code ${code}`;
      return { kind: 'failed', error: bootstrapError(`the bootstrap step of ${name} ${how}`) };
    }
    record.done[key] = code;
    await writeBootstrapRecord(dir, record);
    log(`bootstrap of ${name} exited with ${code}`);
    if (code === 100 || code === 101) {
      if (!ctx.canRestart)
        return {
          kind: 'failed',
          error: bootstrapError(
            `the bootstrap step of ${name} asked for a ${code === 100 ? 'nucleus restart' : 'reboot'} (exit ${code}), which is not supported here`,
          ),
        };
      return {
        kind: 'restart',
        code,
        reason: `the bootstrap step of ${name} exited with ${code}`,
        stage: 'BOOTSTRAP',
      };
    }
  }
  if (!nucleus) return { kind: 'continue' };
  const su = ctx.selfUpdate!;
  if (record.nucleus?.to === nucleus.version)
    // restarted for this version, and yet another one runs: the switch did not happen
    return {
      kind: 'failed',
      error: new DeploymentError(
        `the nucleus restarted for ${nucleus.name}@${nucleus.version} but runs ${su.runningVersion}`,
        ['NUCLEUS_RESTART_FAILURE'],
        ['NUCLEUS_ERROR'],
      ),
    };
  const p = await runStage('nucleus-install', ctx.timeouts.prepareMs, () =>
    su.prepare(nucleus, doc.deploymentId),
  );
  if (!p.ok) {
    if (p.notTendril && nucleus.name === 'aws.greengrass.Nucleus') {
      log(
        `${nucleus.name}@${nucleus.version} is not a Tendril package (${p.reason}); only its configuration applies`,
      );
      return { kind: 'continue' };
    }
    return {
      kind: 'failed',
      error: new DeploymentError(
        `${nucleus.name}@${nucleus.version}: ${p.reason}`,
        ['LAUNCH_DIRECTORY_CORRUPTED'],
        ['NUCLEUS_ERROR'],
      ),
    };
  }
  record.nucleus = { component: nucleus.name, from: su.runningVersion, to: nucleus.version };
  await writeBootstrapRecord(dir, record);
  log(`installed ${nucleus.name}@${nucleus.version} in ${p.dir}; restarting into it`);
  return {
    kind: 'restart',
    code: 100,
    reason: `nucleus update ${su.runningVersion} -> ${nucleus.version}`,
    stage: 'KERNEL_ACTIVATION',
  };
}

/**
 * [CF-99] A failure of the deployment in the new nucleus version: keep the reason for the previous
 * version, flip the launch directories back, and restart into it.
 */
export async function failInNewNucleus(
  ctx: TaskContext,
  doc: DeploymentDocument,
  failure: DeploymentError,
): Promise<{ code: 100; reason: string }> {
  const dir = deploymentDir(ctx.root, doc.deploymentId);
  const record = await readBootstrapRecord(dir);
  record.failure = { message: failure.message, codes: [...failure.codes], types: [...failure.types] };
  await writeBootstrapRecord(dir, record);
  await ctx.selfUpdate!.prepareRollback();
  return { code: 100, reason: `the deployment failed in the new nucleus version: ${failure.message}` };
}

/**
 * [CF-98, CF-99] KERNEL_ROLLBACK: the launcher went back to this (previous) version. Restore the
 * pre-deployment snapshot, wait for the services, report FAILED_ROLLBACK_COMPLETE with why.
 */
export async function runKernelRollback(ctx: TaskContext, doc: DeploymentDocument): Promise<RollbackResult> {
  const dir = deploymentDir(ctx.root, doc.deploymentId);
  const record = await readBootstrapRecord(dir);
  const { restartPanic } = await ctx.selfUpdate!.finishRollback();
  const to = record.nucleus ? `${record.nucleus.component}@${record.nucleus.to}` : 'the new nucleus version';
  const failure = record.failure
    ? new DeploymentError(
        record.failure.message,
        [...record.failure.codes, ...(restartPanic ? (['NUCLEUS_RESTART_FAILURE'] as const) : [])],
        record.failure.types,
      )
    : new DeploymentError(
        `${to} did not start${restartPanic ? ' (the launcher gave up after repeated failures)' : ''}; the launcher went back to ${ctx.selfUpdate!.runningVersion}`,
        ['NUCLEUS_RESTART_FAILURE'],
        ['NUCLEUS_ERROR'],
      );
  ctx.log?.(`deployment ${doc.deploymentId}: rolling back: ${failure.message}`);
  return rollbackToSnapshot(ctx, doc.deploymentId, path.join(dir, ROLLBACK_SNAPSHOT), failure, new Set());
}
