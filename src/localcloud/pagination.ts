// Opaque nextToken pagination [CP-10], [CP-60]: the token encodes the offset into a stable ordering.
import { validationError } from './http/errors.js';

export const DEFAULT_PAGE_SIZE = 50;

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export function decodeNextToken(token: string | null | undefined): number {
  if (token === null || token === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    const offset = (parsed as { o?: unknown })?.o;
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through to the error below
  }
  throw validationError('nextToken is not a token returned by a previous call', 'nextToken');
}

function encodeNextToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset }), 'utf8').toString('base64url');
}

export function paginate<T>(
  all: T[],
  maxResults: number | undefined,
  nextToken: string | null | undefined,
): Page<T> {
  const start = decodeNextToken(nextToken);
  const size = maxResults ?? DEFAULT_PAGE_SIZE;
  const items = all.slice(start, start + size);
  const end = start + items.length;
  return end < all.length ? { items, nextToken: encodeNextToken(end) } : { items };
}
