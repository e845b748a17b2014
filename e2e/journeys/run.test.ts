// `make run` as a newcomer meets it: the run script on the cluster of KUBECONFIG, the commands it
// prints run exactly as printed, a job executing at the next minute in the demo runtime's
// output, and Ctrl-C leaving no process behind.
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { isAlive } from '../cluster/process.js';
import { DEMO_FUNCTION_ID, EXAMPLES_BEGIN, EXAMPLES_END } from '../../dev/examples.js';
import { clients, clusterDir, eventually, repoRoot } from './support.js';
import { untilNextMinute } from './operator.js';

const sh = promisify(execFile);

/** Runs one printed line through bash, as a user pasting it would. */
async function paste(line: string): Promise<string> {
  const { stdout } = await sh('/bin/bash', ['-c', line], {
    env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
  });
  return stdout;
}

describe('journey: make run', function () {
  const id = randomBytes(3).toString('hex');
  const ns = `run-${id}`;
  const project = `run-${id}`;
  const dir = `${clusterDir}/run-${id}`;
  let run: ChildProcess;
  let out = '';
  let exited: Promise<number | null>;
  let commands: string[] = [];
  let jobId = '';

  before(function () {
    run = spawn(
      process.execPath,
      [
        `${repoRoot}/dist/dev/run.js`,
        `--dir=${dir}`,
        `--namespace=${ns}`,
        `--project=${project}`,
        '--api-port=0',
      ],
      { env: { ...process.env, KUBECONFIG: process.env.KUBECONFIG ?? `${clusterDir}/kubeconfig` } },
    );
    run.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    run.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
    exited = new Promise((resolve) => run.on('exit', (code) => resolve(code)));
  });
  after(async () => {
    if (run.exitCode === null && run.signalCode === null) {
      run.kill('SIGTERM');
      await exited;
    }
    await clients()
      .core.deleteNamespace({ name: ns })
      .catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts everything and prints examples', async function () {
    this.timeout(120_000);
    const block = await eventually('the printed examples', 90_000, () => {
      if (run.exitCode !== null) throw new Error(`run exited: ${out}`);
      const begin = out.indexOf(EXAMPLES_BEGIN);
      const end = out.indexOf(EXAMPLES_END, begin + EXAMPLES_BEGIN.length);
      return begin >= 0 && end > begin ? out.slice(begin + EXAMPLES_BEGIN.length, end) : undefined;
    });
    commands = block.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(commands.map((c) => c.split(' ')[0])).to.deep.equal([
      'curl',
      'curl',
      'openstack',
      `${clusterDir}/bin/kubectl`,
    ]);
  });

  it('the printed curl creates an every-minute job and the other lists it', async function () {
    this.timeout(30_000);
    const job = JSON.parse(await paste(commands[0] ?? '')) as Record<string, unknown>;
    expect(job).to.include({
      pattern: '* * * * *',
      function_id: DEMO_FUNCTION_ID,
      function_input: 'hello from make run',
      status: 'running',
      project_id: project,
    });
    jobId = String(job.id);
    const listed = JSON.parse(await paste(commands[1] ?? '')) as { jobs: { id: string }[] };
    expect(listed.jobs.map((j) => j.id)).to.deep.equal([jobId]);
  });

  it('the printed openstack command creates a job', async function () {
    this.timeout(30_000);
    const shown = await paste(commands[2] ?? '');
    expect(shown).to.match(/\| name\s+\| from-openstack\s+\|/);
    expect(shown).to.match(new RegExp(`\\| project_id\\s+\\| ${project}\\s+\\|`));
  });

  it('the printed kubectl shows the resources behind both', async function () {
    this.timeout(30_000);
    const shown = await paste(commands[3] ?? '');
    expect(shown.match(/^qinlingjob\.qinling\.io\//gm)).to.have.length(2);
    expect(shown).to.include('* * * * *').and.to.include('*/2 * * * *');
  });

  it('the demo runtime prints the job’s execution at the next minute', async function () {
    this.timeout(untilNextMinute() + 120_000);
    const line = await eventually(`a [runtime] line for job ${jobId}`, untilNextMinute() + 90_000, () =>
      out.split('\n').find((l) => l.startsWith('[runtime] ') && l.includes(` job=${jobId} `)),
    );
    expect(line).to.include(`function=${DEMO_FUNCTION_ID}`).and.to.include('input="hello from make run"');
    expect(readFileSync(`${dir}/logs/runtime.log`, 'utf8')).to.include(` job=${jobId} `);
  });

  it('Ctrl-C stops every process it started and leaves the cluster alone, also when piped into tee', async function () {
    this.timeout(60_000);
    const started = JSON.parse(readFileSync(`${dir}/pids`, 'utf8')) as { name: string; pid: number }[];
    expect(started.map((s) => s.name)).to.deep.equal(['runtime', 'operator', 'facade']);
    // `make run | tee run.log`: Ctrl-C ends tee too, so every line written after it hits a closed
    // pipe. Our end of its stdout closed, its shutdown lines must still come (on stderr).
    run.stdout?.destroy();
    run.kill('SIGINT');
    expect(await exited).to.equal(0);
    for (const s of started) {
      expect(isAlive(s.pid), `${s.name} (pid ${s.pid})`).to.equal(false);
      expect(out).to.include(`[run] stopped the ${s.name} (pid ${s.pid})`);
    }
    expect(out).to.not.include('control plane');
    const nodes = await clients().core.listNode();
    expect(nodes.items).to.have.length(1);
  });
});
