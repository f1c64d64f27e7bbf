import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RotatingFileWriter } from '../../../src/log/index.js';

describe('rotating log file, batches of records', () => {
  let dir: string;
  const t = new Date(2024, 2, 5, 7, 10, 0).getTime();
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tendril-rotb-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Rolled files by index, then the active file: the order the records were written in. */
  function inOrder(name: string): string[] {
    const rolled = fs
      .readdirSync(dir)
      .filter((f) => f !== `${name}.log`)
      .sort((a, b) => Number(/_(\d+)\.log$/.exec(a)?.[1]) - Number(/_(\d+)\.log$/.exec(b)?.[1]));
    return [...rolled, `${name}.log`];
  }

  it('[LC-93] a batch that crosses the size limit is cut between records and goes on in the next file', () => {
    const w = new RotatingFileWriter({ dir, name: 'svc', fileSizeKB: 1, totalLogsSizeKB: 100, now: () => t });
    const records = Array.from(
      { length: 50 },
      (_, i) => `record ${String(i).padStart(3, '0')} ${'x'.repeat(80)}\n`,
    );
    w.writeLines(records.slice(0, 7));
    w.writeLines(records.slice(7));
    w.close();
    const files = inOrder('svc');
    expect(files.length).to.be.at.least(4);
    const texts = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
    for (const text of texts) {
      expect(Buffer.byteLength(text)).to.be.at.most(1024);
      expect(text.endsWith('\n')).to.equal(true); // no record straddles two files
    }
    // full files: the next record would not have fitted
    for (const text of texts.slice(0, -1)) expect(Buffer.byteLength(text) + 93).to.be.above(1024);
    expect(texts.join('')).to.equal(records.join(''));
    expect(w.lost).to.equal(0);
  });

  it('[LC-93] a record longer than a whole file goes alone into a fresh file, the rest after it', () => {
    const w = new RotatingFileWriter({ dir, name: 'big', fileSizeKB: 1, totalLogsSizeKB: 100, now: () => t });
    const big = `${'b'.repeat(3000)}\n`;
    w.writeLines(['a\n', big, 'c\n']);
    w.close();
    const texts = inOrder('big').map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
    expect(texts).to.deep.equal(['a\n', big, 'c\n']);
  });

  it('[LC-93] a batch respects totalLogsSizeKB as single writes do', () => {
    const w = new RotatingFileWriter({ dir, name: 'cap', fileSizeKB: 1, totalLogsSizeKB: 3, now: () => t });
    const line = `${'y'.repeat(511)}\n`;
    w.writeLines(Array.from({ length: 20 }, () => line));
    w.close();
    const files = fs.readdirSync(dir).sort();
    expect(files).to.deep.equal(['cap.log', 'cap_2024_03_05_07_7.log', 'cap_2024_03_05_07_8.log']);
  });

  it('counts every record of a batch that could not be written as lost and keeps going', () => {
    const w = new RotatingFileWriter({ dir, name: 'gone', now: () => t });
    w.writeLines(['one\n']);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.writeFileSync(dir, 'a file where the directory was');
    w.close(); // the next write reopens, and fails
    w.writeLines(['two\n', 'three\n']);
    expect(w.lost).to.equal(2);
    fs.rmSync(dir);
    w.writeLines(['four\n']);
    w.close();
    // the failed write may have left half a line: the next one starts on a new line
    expect(fs.readFileSync(path.join(dir, 'gone.log'), 'utf8')).to.equal('\nfour\n');
  });
});
