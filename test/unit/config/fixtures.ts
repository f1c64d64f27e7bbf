// Paths of the shared fixtures, resolved from the repository root.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixturesDir = path.resolve(repoRoot, '../shared/fixtures');
