import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import {
  DEFAULT_OUTPUT_BUDGET,
  OutputPump,
  type OutputStream,
  outputBudget,
} from '../../../src/lifecycle/process/output-pump.js';

function sink() {
  const calls: { stream: OutputStream; lines: string[] }[] = [];
  return {
    calls,
    fn: (stream: OutputStream, lines: string[]) => calls.push({ stream, lines: [...lines] }),
    lines: (stream: OutputStream) => calls.filter((c) => c.stream === stream).flatMap((c) => c.lines),
  };
}

const numbered = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\n`).join('');

describe('output pump', () => {
  it('[LC-86] delivers at most linesPerTurn lines in one turn, the rest in later turns, in order', async () => {
    const s = sink();
    const pump = new OutputPump(s.fn, { linesPerTurn: 10, maxQueuedLines: 1_000_000 });
    const out = new PassThrough();
    pump.attach('stdout', out);
    pump.seal();
    out.write(numbered(1, 1000));
    await new Promise((r) => process.nextTick(r)); // the data event, not yet a new turn
    expect(s.lines('stdout')).to.have.length(10);
    out.end('tail without newline');
    await pump.done;
    for (const c of s.calls) expect(c.lines.length).to.be.at.most(10);
    expect(s.lines('stdout')).to.deep.equal([
      ...Array.from({ length: 1000 }, (_, i) => String(i + 1)),
      'tail without newline',
    ]);
    expect(pump.stats.lines).to.equal(1001);
  });

  it('[LC-86] pauses the stream once over its byte budget and resumes it when the budget refills, losing nothing', async () => {
    let now = 0;
    const s = sink();
    const pump = new OutputPump(s.fn, { bytesPerSecond: 1000, burstBytes: 100 }, () => now);
    const out = new PassThrough();
    const err = new PassThrough();
    pump.attach('stdout', out);
    pump.attach('stderr', err);
    pump.seal();
    const text = numbered(1, 200); // 692 bytes: over the 100-byte burst
    out.write(text);
    await new Promise((r) => setImmediate(r));
    expect(pump.stats.pauses).to.equal(1);
    expect(out.isPaused()).to.equal(true);
    expect(err.isPaused()).to.equal(true); // one budget per process: both pipes wait
    now += 10_000; // ten seconds later the bucket is full again
    out.end();
    err.end('warn\n');
    await pump.done;
    expect(out.isPaused()).to.equal(false);
    expect(s.lines('stdout')).to.deep.equal(Array.from({ length: 200 }, (_, i) => String(i + 1)));
    expect(s.lines('stderr')).to.deep.equal(['warn']);
    expect(pump.stats.bytes).to.equal(text.length + 5);
  });

  it('pauses while more than maxQueuedLines wait, then drains them and reads on', async () => {
    const s = sink();
    const pump = new OutputPump(s.fn, { linesPerTurn: 50, maxQueuedLines: 100 });
    const out = new PassThrough();
    pump.attach('stdout', out);
    pump.seal();
    out.end(numbered(1, 5000));
    await pump.done;
    expect(pump.stats.pauses).to.be.at.least(1);
    expect(s.lines('stdout')).to.have.length(5000);
    expect(s.lines('stdout').at(-1)).to.equal('5000');
  });

  it('resolves done only after every attached stream ended; a destroyed stream still delivers what was read', async () => {
    const s = sink();
    const pump = new OutputPump(s.fn);
    const out = new PassThrough();
    pump.attach('stdout', out);
    pump.seal();
    let done = false;
    void pump.done.then(() => (done = true));
    out.write('partial');
    await new Promise((r) => setImmediate(r));
    expect(done).to.equal(false);
    out.destroy();
    await pump.done;
    expect(s.lines('stdout')).to.deep.equal(['partial']);
  });

  it('rejects a budget figure that is not positive, naming it', () => {
    expect(() => outputBudget({ bytesPerSecond: 0 })).to.throw(/outputBudget\.bytesPerSecond/);
    expect(outputBudget()).to.deep.equal(DEFAULT_OUTPUT_BUDGET);
  });
});
