import { expect } from 'chai';
import { sameJson } from './reconcile.js';

describe('sameJson: is a status unchanged?', () => {
  it('ignores key order (the apiserver sorts keys)', () => {
    expect(
      sameJson(
        { phase: 'Running', executions: 0, conditions: [{ type: 'A', status: 'True' }] },
        { conditions: [{ status: 'True', type: 'A' }], executions: 0, phase: 'Running' },
      ),
    ).to.equal(true);
  });
  it('treats undefined fields as absent, as JSON does', () =>
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).to.equal(true));
  it('sees a changed value', () => expect(sameJson({ executions: 1 }, { executions: 2 })).to.equal(false));
  it('sees array order', () => expect(sameJson([1, 2], [2, 1])).to.equal(false));
});
