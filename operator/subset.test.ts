import { expect } from 'chai';
import { isSubset } from './subset.js';

describe('isSubset: desired fields against what the server holds', () => {
  const cases: [string, unknown, unknown, boolean][] = [
    ['equal scalars', 1, 1, true],
    ['different scalars', 'a', 'b', false],
    ['server-defaulted extra fields', { a: 1 }, { a: 1, b: 2 }, true],
    ['a changed nested field', { a: { b: 1 } }, { a: { b: 2, c: 3 } }, false],
    ['arrays compare element by element', [{ n: 'x' }], [{ n: 'x', d: 1 }], true],
    ['arrays of another length', [1], [1, 2], false],
    ['a missing object', { a: { b: 1 } }, {}, false],
    ['undefined wants nothing', { a: undefined }, {}, true],
    ['false is not absent', { suspend: false }, {}, false],
  ];
  for (const [name, want, have, ok] of cases) it(name, () => expect(isSubset(want, have)).to.equal(ok));
});
