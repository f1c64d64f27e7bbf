// The client side of bench/artifact.bench.ts, in a process of its own (as the nucleus is apart from
// the cloud): `node --import tsx bench/artifact-client.ts MODE` prints "ready", reads one JSON line
// {url, file?, digest?}, fetches the URL and prints {ms, cpuMs} (elapsed, and user+sys CPU of all its
// threads, inside this process), then exits.
// The parent samples this process's RSS meanwhile. Modes:
//   raw         node:http(s) GET, body bytes dropped (the floor)
//   raw-sha256  node:http(s) GET, body bytes hashed with SHA-256 and dropped (the floor plus the hash)
//   raw-disk    node:http(s) GET piped to `file` (fs.createWriteStream; the floor plus the disk)
//   download    src/iot downloadArtifact to `file`, SHA-256 verified against `digest`
import { createHash } from 'node:crypto';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { downloadArtifact } from '../src/iot/artifact-download.js';

interface Job {
  url: string;
  file?: string;
  digest?: string;
}

function rawGet(url: string, hash: boolean, file?: string): Promise<void> {
  const get = url.startsWith('https:') ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    get(url, (res: IncomingMessage) => {
      if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
      if (file !== undefined) return void pipeline(res, createWriteStream(file)).then(resolve, reject);
      const h = hash ? createHash('sha256') : undefined;
      res.on('data', h ? (c: Buffer) => h.update(c) : () => {});
      res.once('end', () => {
        h?.digest();
        resolve();
      });
      res.once('error', reject);
    }).once('error', reject);
  });
}

const mode = process.argv[2];
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
const job = JSON.parse((await lines[Symbol.asyncIterator]().next()).value as string) as Job;
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
if (mode === 'raw' || mode === 'raw-sha256') await rawGet(job.url, mode === 'raw-sha256');
else if (mode === 'raw-disk') await rawGet(job.url, false, job.file!);
else if (mode === 'download') {
  const outcome = await downloadArtifact({
    url: async () => job.url,
    file: job.file!,
    digest: job.digest,
    algorithm: 'sha256',
    attempts: 1,
  });
  if (outcome !== 'downloaded') throw new Error(`downloadArtifact said ${outcome}`);
} else throw new Error(`unknown mode ${mode}`);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const cpu = process.cpuUsage(cpu0); // every thread of this process: the writes run on the thread pool
process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000 }) + '\n');
process.exit(0);
