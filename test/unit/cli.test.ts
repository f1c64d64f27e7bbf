import { expect } from 'chai';
import { runProgram } from '../../src/cli/command.js';

describe('cli framework', () => {
  it('refuses an unknown command with exit code 2', async () => {
    const writes: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (writes.push(s), true)) as typeof process.stderr.write;
    try {
      expect(await runProgram('tendril', 'x', [], ['nope'])).to.equal(2);
    } finally {
      process.stderr.write = orig;
    }
    expect(writes.join('')).to.contain("unknown command 'nope'");
  });
});
