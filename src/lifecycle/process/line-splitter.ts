// Splits a byte stream into lines on '\n' and '\r', a CRLF pair counting once [LC-86].

import { StringDecoder } from 'node:string_decoder';

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private lastWasCR = false;

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 /* \n */) {
        if (this.lastWasCR && i === start && this.pending === '') {
          // second half of a CRLF split across the line boundary: already emitted
          start = i + 1;
          this.lastWasCR = false;
          continue;
        }
        this.emit(text.slice(start, i));
        start = i + 1;
        this.lastWasCR = false;
      } else if (c === 13 /* \r */) {
        this.emit(text.slice(start, i));
        start = i + 1;
        this.lastWasCR = true;
      } else {
        this.lastWasCR = false;
      }
    }
    this.pending += text.slice(start);
  }

  /** Emits a final unterminated line, if any. */
  end(): void {
    const rest = this.decoder.end();
    if (rest) this.push(rest);
    if (this.pending !== '') {
      const line = this.pending;
      this.pending = '';
      this.onLine(line);
    }
  }

  private emit(tail: string): void {
    const line = this.pending + tail;
    this.pending = '';
    this.onLine(line);
  }
}
