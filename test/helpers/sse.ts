/** Reads `event: counter` values from a Server-Sent Events response, one at a time. */
export class CounterEventReader {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** The next counter value, or a rejection after `timeoutMs`. */
  async next(timeoutMs = 5000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = /event: counter\ndata: (\{.*\})\n\n/.exec(this.buffer);
      if (match?.[1] !== undefined) {
        this.buffer = this.buffer.slice(match.index + match[0].length);
        return (JSON.parse(match[1]) as { counter: number }).counter;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('no counter event in time');
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<never>((_resolve, reject) =>
          setTimeout(() => reject(new Error('no counter event in time')), remaining),
        ),
      ]);
      if (chunk.done) throw new Error('event stream ended');
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
  }

  /** Values until one equals `expected`; rejects after `timeoutMs`. */
  async until(expected: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.next(Math.max(1, deadline - Date.now()))) !== expected);
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }
}
