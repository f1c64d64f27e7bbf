import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ComponentLog } from '../../../src/lifecycle/component-log.js';

describe('component log, batches of output lines', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tendril-clb-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('[LC-86][LC-90] a batch writes each line exactly as one output() call writes it', () => {
    const t = Date.UTC(2024, 2, 5, 7, 10, 0, 319);
    const lines = [
      'plain',
      '',
      'with. dots. {braces=1}',
      '$& $1 replacement-like',
      'ünïcødé ✓',
      ' ',
      'x'.repeat(500),
    ];
    const read = (name: string) => fs.readFileSync(path.join(dir, name, 'com.example.Log.log'), 'utf8');
    for (const stream of ['stdout', 'stderr'] as const) {
      const one = new ComponentLog('com.example.Log', {
        logsDir: path.join(dir, `one-${stream}`),
        now: () => t,
      });
      for (const l of lines) one.output(stream, l, 'services.com.example.Log.lifecycle.Run');
      one.close();
      const batch = new ComponentLog('com.example.Log', {
        logsDir: path.join(dir, `batch-${stream}`),
        now: () => t,
      });
      batch.outputLines(stream, lines, 'services.com.example.Log.lifecycle.Run');
      batch.close();
      expect(read(`batch-${stream}`)).to.equal(read(`one-${stream}`));
    }
    expect(read('one-stdout').split('\n')[1]).to.equal(
      '2024-03-05T07:10:00.319Z [INFO] (Copier) com.example.Log: stdout. {scriptName=services.com.example.Log.lifecycle.Run}',
    );
  });
});
