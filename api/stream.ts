// A job list as JSON, written as it is produced: `{"jobs":[…]}` in chunks of about 64 KiB, the
// event loop yielded between chunks, and the next chunk made only when the socket has taken the
// last (the stream's back-pressure). An unpaged list of thousands of jobs with large inputs thus
// never exists as one string (V8 refuses strings past ~512 MiB) and never stalls other requests.
import { Readable } from 'node:stream';
import { setImmediate as yieldLoop } from 'node:timers/promises';

const CHUNK = 64 * 1024;

export function jsonList(key: string, items: Iterable<unknown>): Readable {
  async function* chunks(): AsyncGenerator<string> {
    let out = `{${JSON.stringify(key)}:[`;
    let first = true;
    for (const item of items) {
      out += (first ? '' : ',') + JSON.stringify(item);
      first = false;
      if (out.length >= CHUNK) {
        yield out;
        out = '';
        await yieldLoop();
      }
    }
    yield `${out}]}`;
  }
  return Readable.from(chunks(), { objectMode: false });
}
