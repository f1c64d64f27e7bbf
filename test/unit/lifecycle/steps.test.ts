import { expect } from 'chai';
import {
  layerEnv,
  lifecycleProblems,
  parseLifecycle,
  parseSkipIf,
  parseStep,
} from '../../../src/lifecycle/steps.js';
import { expandSkipIfPath, shouldSkip, type SkipIfProbe } from '../../../src/lifecycle/steps-skipif.js';

describe('lifecycle steps (pure)', () => {
  it('[LC-36] a plain string is the script', () => {
    expect(parseStep('echo hi', 'lifecycle.run')).to.deep.equal({
      ok: true,
      step: { script: 'echo hi', requiresPrivilege: false, setenv: {} },
    });
  });

  it('[LC-47] map keys are case-insensitive', () => {
    const p = parseLifecycle({
      Run: { Script: 'x', RequiresPrivilege: 'true', Timeout: 5, Setenv: { A: 1 }, SkipIf: '!onpath git' },
    });
    expect(p.steps.run).to.deep.equal({
      ok: true,
      step: {
        script: 'x',
        requiresPrivilege: true,
        timeoutSec: 5,
        setenv: { A: '1' },
        skipif: { negate: true, check: 'onpath', target: 'git' },
      },
    });
  });

  it('[LC-44] a step map without script is invalid, naming the field', () => {
    const p = parseLifecycle({ install: { timeout: 3 } });
    expect(p.steps.install).to.deep.equal({
      ok: false,
      problem: { field: 'lifecycle.install.script', reason: 'is required [LC-44]' },
    });
    expect(lifecycleProblems(p)).to.have.length(1);
  });

  it('[LC-45] skipif grammar: [!](onpath|exists) <target>', () => {
    expect(parseSkipIf('exists /tmp/x', 'f')).to.deep.equal({
      negate: false,
      check: 'exists',
      target: '/tmp/x',
    });
    expect(parseSkipIf('! exists ~/a b', 'f')).to.deep.equal({
      negate: true,
      check: 'exists',
      target: '~/a b',
    });
    expect(parseSkipIf('onpathgit', 'f')).to.have.property('field', 'f');
    expect(parseSkipIf('whenever true', 'f')).to.deep.include({ field: 'f' });
    const bad = parseStep({ script: 'x', skipif: 'exist /tmp' }, 'lifecycle.install');
    expect(bad).to.deep.equal({
      ok: false,
      problem: {
        field: 'lifecycle.install.skipif',
        reason: "invalid skipif 'exist /tmp': expected '[!]onpath <executable>' or '[!]exists <file>'",
      },
    });
  });

  it('bad option values are rejected with the field and the reason', () => {
    expect(parseStep({ script: 'x', timeout: -1 }, 's')).to.deep.equal({
      ok: false,
      problem: { field: 's.timeout', reason: 'must be a positive number of seconds, got -1' },
    });
    expect(parseStep({ script: 'x', requiresPrivilege: 'maybe' }, 's')).to.deep.equal({
      ok: false,
      problem: { field: 's.requiresPrivilege', reason: 'must be true or false' },
    });
    expect(parseStep({ script: 'x', setenv: { A: { b: 1 } } }, 's')).to.deep.equal({
      ok: false,
      problem: { field: 's.setenv.A', reason: 'must be a string, got object' },
    });
    expect(parseStep(42, 's')).to.deep.include({ ok: false });
    expect(parseLifecycle({ errorResetTime: 'x' }).problems[0].field).to.equal('lifecycle.errorResetTime');
  });

  it('[LC-71] setenv layers: later wins', () => {
    expect(layerEnv({ A: '1', B: '1' }, { B: '2', C: '2' }, undefined, { C: '3' })).to.deep.equal({
      A: '1',
      B: '2',
      C: '3',
    });
  });

  it('[LC-45] skip decisions use the probes, honour negation and expand ~ prefixes', () => {
    const seen: string[] = [];
    const probe: SkipIfProbe = {
      onPath: (exe) => exe === 'git',
      exists: (p) => (seen.push(p), p === '/r/config/x'),
    };
    const paths = { root: '/r', config: '/r/config', home: '/h', packages: '/r/packages' };
    expect(shouldSkip({ negate: false, check: 'onpath', target: 'git' }, probe, '', paths)).to.equal(true);
    expect(shouldSkip({ negate: true, check: 'onpath', target: 'git' }, probe, '', paths)).to.equal(false);
    expect(shouldSkip({ negate: false, check: 'exists', target: '~config/x' }, probe, '', paths)).to.equal(
      true,
    );
    expect(seen).to.deep.equal(['/r/config/x']);
    expect(expandSkipIfPath('~/a', paths)).to.equal('/h/a');
    expect(expandSkipIfPath('~root/a', paths)).to.equal('/r/a');
    expect(expandSkipIfPath('~packages/a', paths)).to.equal('/r/packages/a');
  });
});
