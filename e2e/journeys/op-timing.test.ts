// Timing policies (issue 16): jitter moves every run of a job by its own stable offset, and the
// call happens at the nextExecutionTime status showed (off the minute by that offset); start and
// end bounds let exactly the runs between them happen, and then the job is Done.
import { expect } from 'chai';
import {
  callsAtLeast,
  createJob,
  deleteJob,
  executions,
  jobWhere,
  sleep,
  untilNextMinute,
  withOperator,
} from './operator.js';
import { eventually } from './support.js';
import { jitterOffsetMs } from '../../domain/timing.js';
import type { QinlingJob } from '../../domain/types.js';

describe('journey: jitter and bounds', function () {
  const scene = withOperator('timing');

  it('jitter: the call is at nextExecutionTime, off the minute by the job’s offset', async function () {
    this.timeout(240_000);
    let j: QinlingJob | undefined;
    // The offset comes from the uid; one of 0 proves nothing, so such a job is made again.
    for (let i = 0; !j; i++) {
      const made = await createJob(scene.ns, `jitter-${i}`, { pattern: '* * * * *', jitterSeconds: 40 });
      if (jitterOffsetMs(made.metadata.uid, 40) > 0) j = made;
      else await deleteJob(scene.ns, `jitter-${i}`);
    }
    const name = j.metadata.name;
    const offset = jitterOffsetMs(j.metadata.uid, 40);
    const planned = await jobWhere(scene.ns, name, 'planned', 60_000, (x) => !!x.status?.nextExecutionTime);
    const next = planned.status?.nextExecutionTime ?? '';
    expect(new Date(next).getTime() % 60_000).to.equal(offset);
    const [c] = await callsAtLeast(scene.runtime.calls, 1, 130_000);
    expect(c?.scheduled).to.equal(next);
    expect(c?.key).to.equal(`${j.metadata.uid}/${next}`);
    const late = (c?.at.getTime() ?? 0) - new Date(next).getTime();
    expect(late).to.be.at.least(0);
    console.log(`      (offset ${offset / 1000} s; called ${late} ms after nextExecutionTime)`);
    await deleteJob(scene.ns, name);
  });

  it('bounds: only the run between startTime and endTime happens, then the job is Done', async function () {
    this.timeout(240_000);
    const start = new Date(Math.ceil((Date.now() + 30_000) / 60_000) * 60_000);
    const end = new Date(start.getTime() + 30_000);
    await createJob(scene.ns, 'bounded', {
      pattern: '* * * * *',
      startTime: start.toISOString(),
      endTime: end.toISOString(),
    });
    const planned = await jobWhere(
      scene.ns,
      'bounded',
      'planned',
      60_000,
      (x) => !!x.status?.nextExecutionTime,
    );
    expect(planned.status?.nextExecutionTime).to.equal(start.toISOString());
    expect(planned.status?.upcoming).to.deep.equal([start.toISOString()]);
    const done = await jobWhere(scene.ns, 'bounded', 'Done', 180_000, (x) => x.status?.phase === 'Done');
    const mine = () => executions(scene.runtime.calls).filter((x) => x.jobId === done.metadata.uid);
    await eventually('the bounded job’s call', 30_000, () => mine().length > 0);
    await sleep(untilNextMinute() + 5000); // a tick past the end bound: nothing more
    expect(mine().map((x) => x.scheduled)).to.deep.equal([start.toISOString()]);
    expect(done.status?.nextExecutionTime).to.equal(undefined);
  });
});
