import { expect } from 'chai';
import { containerArgv, imageRepository, localImage } from './images.js';

describe('images: the process kubelet image table', () => {
  const repos: [string, string][] = [
    ['busybox', 'busybox'],
    ['busybox:1.36', 'busybox'],
    ['docker.io/library/busybox:1.36', 'busybox'],
    ['ghcr.io/acme/qinling-jobs:0.1.0', 'acme/qinling-jobs'],
    ['localhost:5000/qinling-jobs@sha256:abcd', 'qinling-jobs'],
    ['registry.local/qinling-jobs-testbin:dev', 'qinling-jobs-testbin'],
  ];
  for (const [image, repo] of repos)
    it(`${image} is repository ${repo}`, () => expect(imageRepository(image)).to.equal(repo));

  it('maps our image onto the checkout, rewriting /app paths', () => {
    const img = localImage('ghcr.io/acme/qinling-jobs:1', '/src');
    expect(img).to.not.equal(undefined);
    if (!img) return;
    expect(containerArgv(img, undefined, ['operator', '--x=1'])).to.deep.equal([
      'node',
      '/src/dist/cli.js',
      'operator',
      '--x=1',
    ]);
    expect(containerArgv(img, ['node', '/app/dist/cli.js'], ['invoke'])).to.deep.equal([
      'node',
      '/src/dist/cli.js',
      'invoke',
    ]);
    expect(containerArgv(img, ['node', '/application'], [])).to.deep.equal(['node', '/application']);
    expect(containerArgv(img, undefined, ['api', '--token-file=/app/t.csv'])).to.deep.equal([
      'node',
      '/src/dist/cli.js',
      'api',
      '--token-file=/src/t.csv',
    ]);
  });

  it('uses the image CMD only when the pod gives no args', () => {
    const img = localImage('busybox', '/src');
    if (!img) throw new Error('busybox must be known');
    expect(containerArgv(img, undefined, undefined)).to.deep.equal(['sh']);
    expect(containerArgv(img, ['sleep'], ['5'])).to.deep.equal(['sleep', '5']);
  });

  it('does not know other images', () => expect(localImage('nginx:1.27', '/src')).to.equal(undefined));
});
