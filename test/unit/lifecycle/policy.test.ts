import { expect } from 'chai';
import {
  clearErrorsOf,
  exitCodeReason,
  recordError,
  restartBackoffMs,
  stepStatusCode,
} from '../../../src/lifecycle/policy.js';

describe('lifecycle restart policy (pure)', () => {
  const RESET = 10_000;

  it('[LC-28] errors are only counted for NEW, STARTING and RUNNING', () => {
    const v = recordError({}, 'STOPPING', 5, RESET);
    expect(v).to.deep.equal({ state: 'ERRORED', errors: {} });
    expect(recordError({}, 'NEW', 5, RESET).errors).to.deep.equal({ NEW: [5] });
  });

  it('[LC-31] the third error inside the window is BROKEN; errors in other states do not add up', () => {
    let e = recordError({}, 'RUNNING', 1, RESET).errors;
    e = recordError(e, 'STARTING', 2, RESET).errors;
    const second = recordError(e, 'RUNNING', 3, RESET);
    expect(second.state).to.equal('ERRORED');
    expect(recordError(second.errors, 'RUNNING', 4, RESET).state).to.equal('BROKEN');
  });

  it('[LC-29] a gap of errorResetTime or more since the last error restarts the count', () => {
    const e = recordError(recordError({}, 'RUNNING', 0, RESET).errors, 'RUNNING', 100, RESET).errors;
    const v = recordError(e, 'RUNNING', 100 + RESET, RESET);
    expect(v.state).to.equal('ERRORED');
    expect(v.errors.RUNNING).to.deep.equal([100 + RESET]);
  });

  it('[LC-30] a non-error report clears the list of that state only', () => {
    expect(clearErrorsOf({ RUNNING: [1], NEW: [2] }, 'RUNNING')).to.deep.equal({ NEW: [2] });
  });

  it('backoff doubles with recent errors, is capped, and is zero without recent errors', () => {
    const p = { baseMs: 100, maxMs: 250 };
    expect(restartBackoffMs([], 0, RESET, p)).to.equal(0);
    expect(restartBackoffMs([0], 10, RESET, p)).to.equal(100);
    expect(restartBackoffMs([0, 5], 10, RESET, p)).to.equal(200);
    expect(restartBackoffMs([0, 5, 6], 10, RESET, p)).to.equal(250);
    expect(restartBackoffMs([0], RESET, RESET, p)).to.equal(0);
  });

  it('[LC-50][LC-51] step status codes and exit code reasons', () => {
    expect(stepStatusCode('install', 'TIMEOUT')).to.equal('INSTALL_TIMEOUT');
    expect(stepStatusCode('startup', 'CONFIG_NOT_VALID')).to.equal('STARTUP_CONFIG_NOT_VALID');
    expect(stepStatusCode('run', 'TIMEOUT')).to.equal('RUN_TIMEOUT');
    expect(stepStatusCode('shutdown', 'TIMEOUT')).to.equal('SHUTDOWN_TIMEOUT');
    expect(exitCodeReason('run', 3, null)).to.equal('The run script exited with code 3.');
    expect(exitCodeReason('run', null, 'SIGKILL')).to.contain('SIGKILL');
  });
});
