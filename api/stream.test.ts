// The streamed list is the same JSON as the built one, for any size, and lets the event loop run.
import { expect } from 'chai';
import { text } from 'node:stream/consumers';
import { jsonList } from './stream.js';

describe('jsonList: a list written as it is produced', () => {
  const cases: { name: string; items: unknown[] }[] = [
    { name: 'empty', items: [] },
    { name: 'one', items: [{ id: 'a', function_input: '"quoted" \u2028 ünï' }] },
    {
      name: 'many chunks',
      items: Array.from({ length: 300 }, (_, i) => ({ id: i, input: 'x'.repeat(1000) })),
    },
  ];
  for (const tc of cases)
    it(tc.name, async () => {
      const got = await text(jsonList('jobs', tc.items));
      expect(got).to.equal(JSON.stringify({ jobs: tc.items }));
    });

  it('yields to the event loop between chunks (a timer set before it fires meanwhile)', async () => {
    let fired = false;
    setImmediate(() => (fired = true));
    let seenBeforeEnd = false;
    function* items() {
      for (let i = 0; i < 200; i++) {
        if (fired) seenBeforeEnd = true;
        yield { i, pad: 'y'.repeat(2000) };
      }
    }
    await text(jsonList('jobs', items()));
    expect(seenBeforeEnd).to.equal(true);
  });
});
