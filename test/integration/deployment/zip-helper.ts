// Builds real ZIP archives for tests with python3's zipfile module (no zip writer is installed for
// Node): plain files, directories, symlink entries, raw hostile names and zero-filled bombs.
import { execFileSync } from 'node:child_process';

export type ZipEntrySpec =
  | { name: string; text: string }
  | { name: string; dir: true }
  | { name: string; symlinkTo: string }
  /** `zeros` bytes of zeros, deflated (streamed, so a 1 GiB bomb costs little memory). */
  | { name: string; zeros: number };

const SCRIPT = `
import json, sys, zipfile
out, specs = sys.argv[1], json.loads(sys.argv[2])
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for s in specs:
        if 'dir' in s:
            i = zipfile.ZipInfo(s['name']); i.external_attr = (0o40755 << 16) | 0x10
            z.writestr(i, b'')
        elif 'symlinkTo' in s:
            i = zipfile.ZipInfo(s['name']); i.create_system = 3; i.external_attr = 0o120777 << 16
            z.writestr(i, s['symlinkTo'])
        elif 'zeros' in s:
            i = zipfile.ZipInfo(s['name']); i.compress_type = zipfile.ZIP_DEFLATED
            i.external_attr = 0o100644 << 16
            with z.open(i, 'w', force_zip64=True) as f:
                chunk = bytes(1 << 20); left = s['zeros']
                while left > 0:
                    n = min(left, len(chunk)); f.write(chunk[:n]); left -= n
        else:
            i = zipfile.ZipInfo(s['name']); i.compress_type = zipfile.ZIP_DEFLATED
            i.external_attr = 0o100644 << 16
            z.writestr(i, s['text'])
`;

export function makeZip(file: string, entries: ZipEntrySpec[]): void {
  execFileSync('python3', ['-c', SCRIPT, file, JSON.stringify(entries)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
