import { expect } from 'chai';
import Koa from 'koa';
import type { Server } from 'node:http';
import { DomainError } from '../domain/errors.js';
import { errorMiddleware, HttpError } from './errors.js';

describe('errors: one middleware for every error', () => {
  const heard: [string, boolean][] = [];
  let server: Server;
  let base = '';
  before(async () => {
    const app = new Koa();
    app.use(errorMiddleware((err, internal) => heard.push([(err as Error).message, internal])));
    app.use((ctx) => {
      if (ctx.path === '/outage')
        throw new HttpError(503, 'Keystone is unavailable.', { 'Retry-After': '5' });
      if (ctx.path === '/store') throw new DomainError('Unavailable', 'The cluster is unavailable.');
      if (ctx.path === '/bug') throw new Error('secret detail');
      if (ctx.path === '/gone') throw new DomainError('NotFound', 'Job not found.');
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => server.close());
  beforeEach(() => (heard.length = 0));

  it('reports an outage as one, with its status and headers, not as an internal error', async () => {
    const r = await fetch(`${base}/outage`);
    expect(r.status).to.equal(503);
    expect(r.headers.get('retry-after')).to.equal('5');
    expect(await r.json()).to.deep.equal({
      faultcode: 'Server',
      faultstring: 'Keystone is unavailable.',
      debuginfo: null,
    });
    expect((await fetch(`${base}/store`)).status).to.equal(503);
    expect(heard).to.deep.equal([
      ['Keystone is unavailable.', false],
      ['The cluster is unavailable.', false],
    ]);
  });

  it('hides an unexpected error behind a 500 and reports it as internal', async () => {
    const r = await fetch(`${base}/bug`);
    expect(r.status).to.equal(500);
    expect(((await r.json()) as { faultstring: string }).faultstring).to.equal('Internal server error.');
    expect(heard).to.deep.equal([['secret detail', true]]);
  });

  it('tells the server nothing of client errors', async () => {
    expect((await fetch(`${base}/gone`)).status).to.equal(404);
    expect((await fetch(`${base}/nothing-here`)).status).to.equal(404);
    expect(heard).to.deep.equal([]);
  });
});
