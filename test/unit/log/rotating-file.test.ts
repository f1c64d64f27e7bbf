import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RotatingFileWriter, hourKey } from '../../../src/log/index.js';

describe('rotating log file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tendril-rot-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('[LC-93] hourKey is yyyy_MM_dd_HH in local time', () => {
    const t = new Date(2024, 2, 5, 7, 59, 0).getTime();
    expect(hourKey(t)).to.equal('2024_03_05_07');
  });

  it('[LC-93] rolls to <name>_<yyyy_MM_dd_HH>_<i>.log when the size cap would be exceeded', () => {
    const t = new Date(2024, 2, 5, 7, 10, 0).getTime();
    const w = new RotatingFileWriter({
      dir,
      name: 'com.example.Hello',
      fileSizeKB: 1,
      totalLogsSizeKB: 100,
      now: () => t,
    });
    const line = `${'x'.repeat(299)}\n`; // 300 bytes
    for (let i = 0; i < 10; i++) w.write(line);
    w.close();
    const files = fs.readdirSync(dir).sort();
    expect(files).to.deep.equal([
      'com.example.Hello.log',
      'com.example.Hello_2024_03_05_07_0.log',
      'com.example.Hello_2024_03_05_07_1.log',
      'com.example.Hello_2024_03_05_07_2.log',
    ]);
    for (const f of files) expect(fs.statSync(path.join(dir, f)).size).to.be.at.most(1024);
    const total = files.reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
    expect(total).to.equal(3000);
  });

  it('[LC-93] rolls when the hour changes, naming the file after the hour it was written in', () => {
    let t = new Date(2024, 2, 5, 7, 59, 0).getTime();
    const w = new RotatingFileWriter({ dir, name: 'greengrass', now: () => t });
    w.write('first\n');
    t = new Date(2024, 2, 5, 8, 0, 1).getTime();
    w.write('second\n');
    w.close();
    expect(fs.readFileSync(path.join(dir, 'greengrass_2024_03_05_07_0.log'), 'utf8')).to.equal('first\n');
    expect(fs.readFileSync(path.join(dir, 'greengrass.log'), 'utf8')).to.equal('second\n');
  });

  it('[LC-93] deletes the oldest rolled files to respect totalLogsSizeKB', () => {
    const t = new Date(2024, 2, 5, 7, 10, 0).getTime();
    const w = new RotatingFileWriter({ dir, name: 'svc', fileSizeKB: 1, totalLogsSizeKB: 3, now: () => t });
    const line = `${'y'.repeat(511)}\n`; // 512 bytes: two per file
    for (let i = 0; i < 20; i++) w.write(line);
    w.close();
    const files = fs.readdirSync(dir).sort();
    const total = files.reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
    expect(total).to.be.at.most(3 * 1024);
    // 20 lines = 10 files of 1 KB; only the newest survive: indexes 7, 8 and the active file
    expect(files).to.deep.equal(['svc.log', 'svc_2024_03_05_07_7.log', 'svc_2024_03_05_07_8.log']);
  });

  it('[LC-93] continues numbering after existing rolled files of the same hour', () => {
    const t = new Date(2024, 2, 5, 7, 10, 0).getTime();
    fs.writeFileSync(path.join(dir, 'svc_2024_03_05_07_4.log'), 'old\n');
    const w = new RotatingFileWriter({ dir, name: 'svc', fileSizeKB: 1, now: () => t });
    w.write(`${'z'.repeat(1000)}\n`);
    w.write(`${'z'.repeat(1000)}\n`);
    w.close();
    expect(fs.existsSync(path.join(dir, 'svc_2024_03_05_07_5.log'))).to.equal(true);
  });

  it('rejects bad sizes naming the field', () => {
    expect(() => new RotatingFileWriter({ dir, name: 'a', fileSizeKB: 0 })).to.throw(
      /fileSizeKB: must be a positive/,
    );
    expect(() => new RotatingFileWriter({ dir, name: 'a', totalLogsSizeKB: -1 })).to.throw(/totalLogsSizeKB/);
    expect(() => new RotatingFileWriter({ dir, name: 'a/b' })).to.throw(/name:/);
  });

  it('[LC-93] a write that fails (disk full: /dev/full) loses the line without throwing; writing resumes on a new line', () => {
    const file = path.join(dir, 'full.log');
    fs.symlinkSync('/dev/full', file);
    const w = new RotatingFileWriter({ dir, name: 'full' });
    expect(() => w.write('lost\n')).to.not.throw();
    expect(w.lost).to.equal(1);
    fs.rmSync(file);
    w.write('kept\n');
    w.close();
    expect(fs.readFileSync(file, 'utf8')).to.equal('\nkept\n');
  });
});
