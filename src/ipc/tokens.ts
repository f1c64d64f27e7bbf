// SVCUID tokens [CF-81, IPC-49]: 16 random characters from a 32-character upper-case alphabet.
import { randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function generateAuthToken(): string {
  let out = '';
  for (let i = 0; i < 16; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** In-memory token table; the nucleus mirrors it to `services._AUTHENTICATION_TOKENS`. */
export class AuthTokenRegistry {
  private readonly byToken = new Map<string, string>();
  private readonly byComponent = new Map<string, string>();

  /** The component's token, minting one (retrying on collision) if it has none. */
  issue(component: string): string {
    const existing = this.byComponent.get(component);
    if (existing) return existing;
    let token = generateAuthToken();
    while (this.byToken.has(token)) token = generateAuthToken();
    this.byToken.set(token, component);
    this.byComponent.set(component, token);
    return token;
  }

  revoke(component: string): void {
    const token = this.byComponent.get(component);
    if (token) this.byToken.delete(token);
    this.byComponent.delete(component);
  }

  /** Suitable as the server's `authenticate`. */
  lookup = (token: string): string | undefined => this.byToken.get(token);
}
