import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('./cli.js', import.meta.url));

describe('qinling-jobs CLI', () => {
  it('prints its version', () => {
    expect(execFileSync(process.execPath, [cli, 'version'], { encoding: 'utf8' }).trim()).to.match(
      /^\d+\.\d+\.\d+$/,
    );
  });
  it('refuses an unknown command with usage and exit code 2', () => {
    const r = spawnSync(process.execPath, [cli, 'frobnicate'], { encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('unknown command "frobnicate"');
    expect(r.stderr).to.contain('Usage: qinling-jobs');
  });
});
