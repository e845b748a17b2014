import { expectConventionalNames } from '../fakes/metric-names.js';
import { makeMetrics } from './metrics.js';

describe('operator metrics', () => {
  it('keeps the standard process_ and nodejs_ names, and qinling_jobs_ for its own', () =>
    expectConventionalNames(
      makeMetrics(
        () => [],
        () => 0,
      ).registry,
    ));
});
