// The facade's gauges read the world when scraped.
import { expect } from 'chai';
import { expectConventionalNames } from '../fakes/metric-names.js';
import { makeApiMetrics } from './metrics.js';

describe('api metrics', () => {
  it('reports the projects refused because several namespaces claim them, as of the scrape', async () => {
    let conflicts = 0;
    const m = makeApiMetrics(() => conflicts);
    expect(await m.registry.metrics()).to.match(/^qinling_jobs_api_project_conflicts 0$/m);
    conflicts = 2;
    expect(await m.registry.metrics()).to.match(/^qinling_jobs_api_project_conflicts 2$/m);
  });

  it('keeps the standard process_ and nodejs_ names, and qinling_jobs_ for its own', () =>
    expectConventionalNames(makeApiMetrics(() => 0).registry));
});
