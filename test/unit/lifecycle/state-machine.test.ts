import { expect } from 'chai';
import {
  decideLoopAction,
  desiredAfterRestart,
  desiredAfterStart,
  desiredAfterStop,
  desiredAfterUninstall,
  desiredAfterReinstall,
  isClosable,
  isReportableTransition,
  popReachedDesired,
  terminatedTarget,
  type LoopView,
} from '../../../src/lifecycle/state-machine.js';
import {
  applyTransition,
  initialRecord,
  type LifecycleRecord,
} from '../../../src/lifecycle/state-machine-record.js';
import type { LifecycleState } from '../../../src/lifecycle/types.js';

const view = (
  state: LifecycleState,
  desired: LifecycleState[] = [],
  extra: Partial<LoopView> = {},
): LoopView => ({
  state,
  previous: 'NEW',
  desired,
  entryDone: false,
  ...extra,
});

describe('lifecycle state machine (pure)', () => {
  it('[LC-09] accepts only the reportable transitions', () => {
    expect(isReportableTransition('STARTING', 'RUNNING')).to.equal(true);
    expect(isReportableTransition('RUNNING', 'FINISHED')).to.equal(true);
    expect(isReportableTransition('NEW', 'ERRORED')).to.equal(true);
    expect(isReportableTransition('STOPPING', 'ERRORED')).to.equal(true);
    expect(isReportableTransition('NEW', 'RUNNING')).to.equal(false);
    expect(isReportableTransition('RUNNING', 'STARTING')).to.equal(false);
    expect(isReportableTransition('BROKEN', 'RUNNING')).to.equal(false);
    expect(isReportableTransition('FINISHED', 'RUNNING')).to.equal(false);
  });

  it('[LC-07] closable states', () => {
    expect(
      ['ERRORED', 'BROKEN', 'FINISHED', 'NEW', 'UNINSTALLED'].every((s) => isClosable(s as LifecycleState)),
    ).to.equal(true);
    expect(isClosable('RUNNING')).to.equal(false);
  });

  it('[LC-11] requestStart: empty -> [RUNNING], trailing FINISHED replaced, RUNNING not doubled', () => {
    const c = { state: 'NEW' as const, uninstallRequested: false };
    expect(desiredAfterStart({ ...c, desired: [] }).desired).to.deep.equal(['RUNNING']);
    expect(desiredAfterStart({ ...c, desired: ['FINISHED'] }).desired).to.deep.equal(['RUNNING']);
    expect(desiredAfterStart({ ...c, desired: ['INSTALLED', 'RUNNING'] }).desired).to.deep.equal([
      'INSTALLED',
      'RUNNING',
    ]);
    expect(desiredAfterStart({ ...c, desired: ['NEW'] }).desired).to.deep.equal(['NEW', 'RUNNING']);
  });

  it('[LC-12][LC-13] reinstall and restart lists; restart yields to a pending reinstall', () => {
    const base = { state: 'RUNNING' as const, uninstallRequested: true };
    expect(desiredAfterReinstall({ ...base, desired: [] })).to.deep.equal({
      desired: ['NEW', 'RUNNING'],
      uninstallRequested: false,
    });
    expect(desiredAfterRestart({ ...base, desired: [] })?.desired).to.deep.equal(['INSTALLED', 'RUNNING']);
    expect(desiredAfterRestart({ ...base, desired: ['NEW', 'RUNNING'] })).to.equal(null);
    expect(desiredAfterRestart({ state: 'NEW', desired: [], uninstallRequested: false })).to.equal(null);
    expect(
      desiredAfterRestart({ state: 'BROKEN', desired: [], uninstallRequested: false })?.desired,
    ).to.deep.equal(['NEW', 'RUNNING']);
  });

  it('[LC-14][LC-15] stop and uninstall lists', () => {
    expect(
      desiredAfterStop({ state: 'RUNNING', desired: [], uninstallRequested: false }).desired,
    ).to.deep.equal(['FINISHED']);
    expect(
      desiredAfterStop({ state: 'RUNNING', desired: [], uninstallRequested: true }).desired,
    ).to.deep.equal(['FINISHED', 'UNINSTALLED']);
    expect(desiredAfterUninstall({ state: 'RUNNING', desired: [], uninstallRequested: false })).to.deep.equal(
      {
        desired: ['FINISHED', 'UNINSTALLED'],
        uninstallRequested: true,
      },
    );
    expect(
      desiredAfterUninstall({ state: 'BROKEN', desired: [], uninstallRequested: false }).desired,
    ).to.deep.equal(['UNINSTALLED']);
  });

  it('[LC-16] pops the leading desired states already reached', () => {
    expect(popReachedDesired('INSTALLED', ['INSTALLED', 'RUNNING'])).to.deep.equal(['RUNNING']);
    expect(popReachedDesired('RUNNING', ['RUNNING'])).to.deep.equal([]);
    expect(popReachedDesired('NEW', ['INSTALLED', 'RUNNING'])).to.deep.equal(['INSTALLED', 'RUNNING']);
  });

  it('[LC-22] terminated services move to the mapped desired state', () => {
    expect(terminatedTarget('NEW')).to.equal('NEW');
    expect(terminatedTarget('RUNNING')).to.equal('INSTALLED');
    expect(terminatedTarget('INSTALLED')).to.equal('INSTALLED');
    expect(terminatedTarget('FINISHED')).to.equal('FINISHED');
    expect(terminatedTarget('UNINSTALLED')).to.equal('UNINSTALLING');
  });

  it('[LC-17] NEW installs only when something is desired', () => {
    expect(decideLoopAction(view('NEW'))).to.deep.equal({ kind: 'idle' });
    expect(decideLoopAction(view('NEW', ['RUNNING']))).to.deep.equal({ kind: 'install' });
    expect(decideLoopAction(view('NEW', ['FINISHED']))).to.deep.equal({ kind: 'clearDesired' });
    expect(decideLoopAction(view('NEW', ['FINISHED', 'UNINSTALLED']))).to.deep.equal({
      kind: 'goto',
      state: 'UNINSTALLING',
    });
  });

  it('[LC-18] INSTALLED waits for dependencies when RUNNING is desired, else goes to the target', () => {
    expect(decideLoopAction(view('INSTALLED', ['RUNNING']))).to.deep.equal({ kind: 'awaitDependencies' });
    expect(decideLoopAction(view('INSTALLED', ['FINISHED']))).to.deep.equal({
      kind: 'goto',
      state: 'FINISHED',
    });
    expect(decideLoopAction(view('INSTALLED', ['NEW', 'RUNNING']))).to.deep.equal({
      kind: 'goto',
      state: 'NEW',
    });
    expect(decideLoopAction(view('INSTALLED'))).to.deep.equal({ kind: 'idle' });
  });

  it('[LC-19] STARTING starts once, and stops for any other desired state', () => {
    expect(decideLoopAction(view('STARTING', ['RUNNING']))).to.deep.equal({ kind: 'startup' });
    expect(decideLoopAction(view('STARTING', ['RUNNING'], { entryDone: true }))).to.deep.equal({
      kind: 'idle',
    });
    expect(decideLoopAction(view('STARTING', ['FINISHED']))).to.deep.equal({
      kind: 'goto',
      state: 'STOPPING',
    });
  });

  it('[LC-20][LC-21] RUNNING stops on any desired state; STOPPING shuts down then goes to the target', () => {
    expect(decideLoopAction(view('RUNNING'))).to.deep.equal({ kind: 'idle' });
    expect(decideLoopAction(view('RUNNING', ['INSTALLED', 'RUNNING']))).to.deep.equal({
      kind: 'goto',
      state: 'STOPPING',
    });
    expect(decideLoopAction(view('STOPPING', ['INSTALLED', 'RUNNING']))).to.deep.equal({ kind: 'shutdown' });
    expect(decideLoopAction(view('STOPPING', ['INSTALLED', 'RUNNING'], { entryDone: true }))).to.deep.equal({
      kind: 'goto',
      state: 'INSTALLED',
    });
    expect(decideLoopAction(view('STOPPING', [], { entryDone: true }))).to.deep.equal({
      kind: 'goto',
      state: 'FINISHED',
    });
  });

  it('[LC-22] FINISHED moves to the desired state', () => {
    expect(decideLoopAction(view('FINISHED', ['RUNNING']))).to.deep.equal({
      kind: 'goto',
      state: 'INSTALLED',
    });
    expect(decideLoopAction(view('FINISHED'))).to.deep.equal({ kind: 'idle' });
  });

  it('[LC-23] ERRORED recovers, auto-retries without a desired state, and routes by the previous state', () => {
    expect(decideLoopAction(view('ERRORED', [], { previous: 'RUNNING' }))).to.deep.equal({ kind: 'recover' });
    const done = { entryDone: true };
    expect(decideLoopAction(view('ERRORED', [], { previous: 'RUNNING', ...done }))).to.deep.equal({
      kind: 'goto',
      state: 'STOPPING',
      requestStart: true,
    });
    expect(decideLoopAction(view('ERRORED', ['RUNNING'], { previous: 'NEW', ...done }))).to.deep.equal({
      kind: 'goto',
      state: 'NEW',
      requestStart: false,
    });
    expect(decideLoopAction(view('ERRORED', ['FINISHED'], { previous: 'STOPPING', ...done }))).to.deep.equal({
      kind: 'goto',
      state: 'FINISHED',
      requestStart: false,
    });
    expect(decideLoopAction(view('ERRORED', ['RUNNING'], { previous: 'INSTALLED', ...done }))).to.deep.equal({
      kind: 'goto',
      state: 'FINISHED',
      requestStart: false,
    });
  });

  it('[LC-24][LC-33] BROKEN cleans up once, then leaves only for NEW or an uninstall', () => {
    expect(decideLoopAction(view('BROKEN', ['RUNNING'], { previous: 'RUNNING' }))).to.deep.equal({
      kind: 'brokenCleanup',
    });
    expect(decideLoopAction(view('BROKEN', ['RUNNING'], { previous: 'NEW' }))).to.deep.equal({
      kind: 'idle',
    });
    expect(
      decideLoopAction(view('BROKEN', ['RUNNING'], { previous: 'RUNNING', entryDone: true })),
    ).to.deep.equal({
      kind: 'idle',
    });
    expect(decideLoopAction(view('BROKEN', ['NEW', 'RUNNING'], { entryDone: true }))).to.deep.equal({
      kind: 'goto',
      state: 'NEW',
    });
    expect(decideLoopAction(view('BROKEN', ['UNINSTALLED'], { entryDone: true }))).to.deep.equal({
      kind: 'goto',
      state: 'UNINSTALLING',
    });
  });

  it('[LC-25][LC-26] uninstall always ends UNINSTALLED; a reinstall leaves UNINSTALLED', () => {
    expect(decideLoopAction(view('UNINSTALLING'))).to.deep.equal({ kind: 'uninstall' });
    expect(decideLoopAction(view('UNINSTALLING', [], { entryDone: true }))).to.deep.equal({
      kind: 'goto',
      state: 'UNINSTALLED',
    });
    expect(decideLoopAction(view('UNINSTALLED', ['NEW', 'RUNNING']))).to.deep.equal({
      kind: 'goto',
      state: 'NEW',
    });
  });
});

describe('lifecycle record transitions (pure)', () => {
  const HOUR = 3600_000;
  const step = (r: LifecycleRecord, to: LifecycleState, now: number) =>
    applyTransition(r, { to, now, errorResetMs: HOUR });

  it('[LC-27] every transition bumps the generation and remembers the previous state', () => {
    const r = step(initialRecord(), 'INSTALLED', 0);
    expect(r.generation).to.equal(1);
    expect(r.previous).to.equal('NEW');
  });

  it('[LC-32][LC-31] a crash loop on RUNNING becomes BROKEN at the third error', () => {
    let r = initialRecord();
    const seen: LifecycleState[] = [];
    for (let i = 0; i < 3; i++) {
      r = step(r, 'INSTALLED', i * 10);
      r = step(r, 'STARTING', i * 10 + 1);
      r = step(r, 'RUNNING', i * 10 + 2);
      r = step(r, 'ERRORED', i * 10 + 3);
      seen.push(r.state);
      if (r.state === 'ERRORED') r = step(r, 'STOPPING', i * 10 + 4);
    }
    expect(seen).to.deep.equal(['ERRORED', 'ERRORED', 'BROKEN']);
    expect(r.statusCode).to.equal('RUN_ERROR');
  });

  it('[LC-29] errors older than errorResetTime do not count toward BROKEN', () => {
    let r: LifecycleRecord = { ...initialRecord(), state: 'RUNNING' };
    r = step(r, 'ERRORED', 0);
    r = { ...r, state: 'RUNNING' };
    r = step(r, 'ERRORED', 1000);
    r = { ...r, state: 'RUNNING' };
    r = step(r, 'ERRORED', 1000 + HOUR);
    expect(r.state).to.equal('ERRORED');
    expect(r.errors.RUNNING).to.deep.equal([1000 + HOUR]);
  });

  it('[LC-52] an ERRORED report without a code gets one from the state that errored', () => {
    expect(step({ ...initialRecord(), state: 'STARTING' }, 'ERRORED', 0).statusCode).to.equal(
      'STARTUP_ERROR',
    );
    expect(step(initialRecord(), 'ERRORED', 0).statusCode).to.equal('INSTALL_ERROR');
    expect(step({ ...initialRecord(), state: 'STOPPING' }, 'ERRORED', 0).statusCode).to.equal(
      'SHUTDOWN_ERROR',
    );
  });

  it('[LC-33] leaving BROKEN through NEW clears every error list', () => {
    const broken: LifecycleRecord = { ...initialRecord(), state: 'BROKEN', errors: { RUNNING: [1, 2, 3] } };
    expect(step(broken, 'NEW', 5).errors).to.deep.equal({});
  });

  it('[LC-55] STOPPING after a startup error is flagged', () => {
    const errored: LifecycleRecord = { ...initialRecord(), state: 'ERRORED', previous: 'STARTING' };
    expect(step(errored, 'STOPPING', 0).stoppingFromStartupError).to.equal(true);
    const errRun: LifecycleRecord = { ...initialRecord(), state: 'ERRORED', previous: 'RUNNING' };
    expect(step(errRun, 'STOPPING', 0).stoppingFromStartupError).to.equal(false);
  });
});

describe('lifecycle completion (pure)', () => {
  it('[LC-43] finishing by itself satisfies a pending RUNNING only', async () => {
    const { desiredAfterCompletion } = await import('../../../src/lifecycle/state-machine.js');
    expect(desiredAfterCompletion(['RUNNING'])).to.deep.equal([]);
    expect(desiredAfterCompletion(['INSTALLED', 'RUNNING'])).to.deep.equal(['INSTALLED', 'RUNNING']);
  });
});
