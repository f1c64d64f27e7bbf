// A full disk under the config store and under an artifact download, on a real tmpfs (root only):
// a tlog write that fails with ENOSPC is cut back to its last whole line and kept queued; it is
// written once space returns (sync() waits for that within syncRetryMs, then rejects naming ENOSPC);
// a download refuses what cannot fit, and a download that meets a full disk fails with
// DISK_SPACE_CRITICAL and removes its partial file [CF-10][CF-12][CF-17][RC-41][CL-37].
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigStore, readTlogFile } from '../../../src/config/index.js';
import { ArtifactDownloadError, downloadArtifact } from '../../../src/iot/index.js';
import { fill, freeBytes, mountTmpfs, unmount } from '../../support/tmpfs.js';

const MB = 2 ** 20;

describe('a full disk under the config tlog and artifact downloads (tmpfs)', function () {
  this.timeout(60_000);
  let base: string;
  let mnt: string;
  let skipReason: string | undefined;
  const filler = () => join(mnt, 'filler');

  before(function () {
    base = mkdtempSync(join(tmpdir(), 'tendril-diskfull-'));
    mnt = join(base, 'mnt');
    skipReason = mountTmpfs(mnt, 32);
    if (skipReason) {
      rmSync(base, { recursive: true, force: true });
      this.skip(); // reason: mounting a tmpfs needs root (CI runs as root)
    }
  });
  after(() => {
    if (skipReason) return;
    unmount(mnt);
    rmSync(base, { recursive: true, force: true });
  });
  afterEach(() => rmSync(filler(), { force: true }));

  describe('config store', () => {
    let root: string;
    const stores: ConfigStore[] = [];
    const open = async (syncRetryMs: number, errors: string[] = []) => {
      const s = await ConfigStore.open({
        root,
        effectiveConfigDebounceMs: 0,
        syncRetryMs,
        onWriteError: (e) => errors.push((e as NodeJS.ErrnoException).code ?? String(e)),
      });
      stores.push(s);
      return s;
    };
    const tlog = () => join(root, 'config', 'config.tlog');

    beforeEach(() => {
      root = join(mnt, `root-${Date.now()}`);
    });
    afterEach(async () => {
      for (const s of stores.splice(0)) await s.close();
      rmSync(root, { recursive: true, force: true });
    });

    it('[CF-10] a write on a full disk rejects naming ENOSPC, leaves whole lines only, and is written once space returns', async () => {
      const errors: string[] = [];
      const store = await open(300, errors);
      await store.set(['services', 'A', 'configuration', 'before'], 'x'.repeat(2000));
      const sizeBefore = statSync(tlog()).size;
      fill(filler());
      const e = await store
        .set(['services', 'A', 'configuration', 'during'], 'y'.repeat(20_000))
        .catch((x: unknown) => x);
      expect((e as NodeJS.ErrnoException).code, String(e)).to.equal('ENOSPC');
      expect(errors.length, 'each failed attempt was reported').to.be.greaterThan(0);
      expect(store.stats.failedWrites).to.be.greaterThan(0);
      const torn = await readTlogFile(tlog());
      expect(torn.tornTail, 'no line cut short').to.equal(false);
      expect(statSync(tlog()).size, 'the failed batch was cut back').to.equal(sizeBefore);
      // the change stays in memory and queued: once there is space it is written
      rmSync(filler());
      await store.sync();
      await store.close();
      stores.length = 0;
      const again = await open(300);
      expect(again.config.get(['services', 'A', 'configuration', 'during'])).to.equal('y'.repeat(20_000));
      expect(again.config.get(['services', 'A', 'configuration', 'before'])).to.equal('x'.repeat(2000));
    });

    it('[CF-10] sync() rides out a disk that is full for a second (the writer retries with backoff)', async () => {
      const store = await open(10_000);
      fill(filler());
      const freed = new Promise<void>((r) =>
        setTimeout(() => {
          rmSync(filler());
          r();
        }, 1000),
      );
      await store.set(['services', 'B', 'configuration', 'k'], 'z'.repeat(50_000));
      await freed;
      expect(store.stats.failedWrites, 'the first attempts failed').to.be.greaterThan(0);
      const parsed = await readTlogFile(tlog());
      expect(parsed.tornTail).to.equal(false);
      expect(readFileSync(tlog(), 'utf8')).to.contain('z'.repeat(50_000));
    });

    it('[CF-10] writes queued behind a failed batch keep their order', async () => {
      const store = await open(200);
      fill(filler());
      // values larger than a page: the last page of the file may still take a short line
      const first = store
        .set(['services', 'C', 'configuration', 'n'], '1'.repeat(9000))
        .catch(() => 'failed');
      const second = store
        .set(['services', 'C', 'configuration', 'n'], '2'.repeat(9000))
        .catch(() => 'failed');
      expect(await first).to.equal('failed');
      expect(await second).to.equal('failed');
      rmSync(filler());
      await store.sync();
      await store.close();
      stores.length = 0;
      const again = await open(200);
      expect(again.config.get(['services', 'C', 'configuration', 'n'])).to.equal('2'.repeat(9000));
    });
  });

  describe('artifact download', () => {
    let server: Server;
    let url: string;
    let serve: (res: ServerResponse) => void;
    const dl = () => join(mnt, 'downloads', 'data.bin');

    before(async () => {
      server = createServer((_req, res) => serve(res));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/artifact?X-Amz-Signature=abc`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    afterEach(() => rmSync(join(mnt, 'downloads'), { recursive: true, force: true }));
    const get = () => downloadArtifact({ url: async () => url, file: dl() });

    it('[RC-41] an artifact larger than the usable space is refused before a byte is written', async () => {
      let served = 0;
      serve = (res) => {
        res.writeHead(200, { 'content-length': String(64 * MB) });
        const chunk = Buffer.alloc(MB);
        const more = () => {
          while (served < 64 * MB && res.write(chunk)) served += MB;
          if (served >= 64 * MB) res.end();
        };
        res.on('drain', more);
        res.on('error', () => undefined);
        more();
      };
      const e = await get().catch((x: unknown) => x);
      expect(e).to.be.instanceOf(ArtifactDownloadError);
      expect((e as ArtifactDownloadError).code).to.equal('DISK_SPACE_CRITICAL');
      expect((e as Error).message).to.match(/needs 67108864 more bytes, \d+ bytes usable/);
      expect(existsSync(dl()), 'no file').to.equal(false);
    });

    it('[RC-41] less than 20 MB usable fails a download before it starts', async () => {
      // leave about 10 MB usable
      writeFileSync(filler(), Buffer.alloc(Math.max(0, freeBytes(mnt) - 10 * MB)));
      let requests = 0;
      serve = (res) => {
        requests++;
        res.writeHead(200, { 'content-length': '4' }).end('data');
      };
      const e = await get().catch((x: unknown) => x);
      expect((e as ArtifactDownloadError).code).to.equal('DISK_SPACE_CRITICAL');
      expect((e as Error).message).to.match(/\d+ bytes usable, 20971520 bytes minimum/);
      expect(requests, 'nothing was requested').to.equal(0);
    });

    it('[CL-37] a disk that fills up during the download fails it with DISK_SPACE_CRITICAL at once and removes the partial file', async () => {
      const total = 8 * MB;
      let requests = 0;
      serve = (res) => {
        requests++;
        res.writeHead(200, { 'content-length': String(total) });
        res.on('error', () => undefined);
        // half the body, then (once it is on disk) another writer fills the disk, then the rest
        res.write(Buffer.alloc(total / 2, 1));
        const wait = setInterval(() => {
          if ((statSync(dl(), { throwIfNoEntry: false })?.size ?? 0) < total / 2) return;
          clearInterval(wait);
          fill(filler());
          res.end(Buffer.alloc(total / 2, 2));
        }, 5);
      };
      const e = await get().catch((x: unknown) => x);
      expect((e as ArtifactDownloadError).code, String(e)).to.equal('DISK_SPACE_CRITICAL');
      expect((e as Error).message).to.contain('the disk became full during the download');
      expect(requests, 'not retried: the disk is full').to.equal(1);
      expect(existsSync(dl()), 'the partial file is removed').to.equal(false);
    });
  });
});
