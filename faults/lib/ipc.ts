// IPC from the campaign as a component: the official aws-iot-device-sdk-v2 client with the token
// (SVCUID) the nucleus gave a running component, read from that component's /proc/<pid>/environ.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { officialClient, type Client } from '../../test/support/ipc-client.js';
import { componentProcesses } from './checks.js';
import { until } from './proc.js';

/** The SVCUID of the component process whose command line starts with `cmdline` (words joined by spaces). */
export async function tokenOf(root: string, cmdline: string): Promise<{ pid: number; token: string }> {
  return until(`a process '${cmdline}' with an SVCUID`, () => {
    for (const pid of componentProcesses(root)) {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
        if (cmd !== cmdline) continue;
        const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        const token = env.find((e) => e.startsWith('SVCUID='))?.slice('SVCUID='.length);
        if (token) return { pid, token };
      } catch {
        /* gone */
      }
    }
    return undefined;
  });
}

export async function connectAs(root: string, token: string): Promise<Client> {
  const client = officialClient(`${root}/ipc.socket`, token);
  await client.connect();
  return client;
}

/** Milliseconds of `n` sequential calls of `call`, after 20 warm-up calls; sorted ascending. */
export async function latencies(n: number, call: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await call();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await call();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out.sort((a, b) => a - b);
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Open file descriptors of a process that are sockets. */
export function socketCount(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}
