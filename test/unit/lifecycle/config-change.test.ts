import { expect } from 'chai';
import { classifyConfigChange, type ServiceDefinition } from '../../../src/lifecycle/config-change.js';

const base: ServiceDefinition = {
  version: '1.0.0',
  lifecycle: { install: 'make', run: 'serve', shutdown: 'bye' },
  runWith: { posixUser: 'ggc_user', systemResourceLimits: { memory: 1024 } },
  setenv: { A: '1' },
  configuration: { port: 1 },
};

describe('lifecycle config-change classification (pure)', () => {
  it('[LC-60] version, install or runWith changes reinstall', () => {
    expect(classifyConfigChange(base, { ...base, version: '1.0.1' })).to.equal('reinstall');
    expect(
      classifyConfigChange(base, { ...base, lifecycle: { ...base.lifecycle, install: 'make all' } }),
    ).to.equal('reinstall');
    expect(
      classifyConfigChange(base, { ...base, runWith: { ...base.runWith, posixUser: 'other' } }),
    ).to.equal('reinstall');
  });

  it('[LC-61] other lifecycle keys or setenv restart', () => {
    expect(classifyConfigChange(base, { ...base, lifecycle: { ...base.lifecycle, run: 'serve2' } })).to.equal(
      'restart',
    );
    expect(classifyConfigChange(base, { ...base, setenv: { A: '2' } })).to.equal('restart');
    expect(
      classifyConfigChange(base, { ...base, lifecycle: { ...base.lifecycle, setenv: { X: '1' } } }),
    ).to.equal('restart');
  });

  it('[LC-62] shutdown changes alone are ignored', () => {
    expect(
      classifyConfigChange(base, { ...base, lifecycle: { ...base.lifecycle, shutdown: 'later' } }),
    ).to.equal('none');
  });

  it('[LC-63] resource limit changes re-apply limits only', () => {
    expect(
      classifyConfigChange(base, {
        ...base,
        runWith: { posixUser: 'ggc_user', systemResourceLimits: { cpus: 1 } },
      }),
    ).to.equal('relimit');
  });

  it('[LC-64] configuration changes alone do nothing', () => {
    expect(classifyConfigChange(base, { ...base, configuration: { port: 2 } })).to.equal('none');
  });

  it('[LC-47] key case does not count as a change', () => {
    expect(
      classifyConfigChange(base, { ...base, lifecycle: { Install: 'make', Run: 'serve', shutdown: 'bye' } }),
    ).to.equal('none');
  });
});
