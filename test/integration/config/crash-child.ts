// Child for the crash test: applies numbered updates through the real store and prints each number on stdout
// only after the store acknowledged it as durable. Args: <root> <firstSeq> <maxTlogEntries>.
import { ConfigStore } from '../../../src/config/index.js';

const [root, first, maxEntries] = process.argv.slice(2);
const store = await ConfigStore.open({
  root,
  maxTlogEntries: Number(maxEntries),
  effectiveConfigDebounceMs: 5,
});
const KEYS = 300;
const CONCURRENCY = 16;
let next = Number(first);

async function worker(): Promise<void> {
  for (;;) {
    const seq = next++;
    await store.set(['crash', `k${seq % KEYS}`], seq);
    process.stdout.write(`${seq}\n`);
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
