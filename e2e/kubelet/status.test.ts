import { expect } from 'chai';
import {
  exitOf,
  podPhase,
  podStatus,
  shouldRestart,
  type ContainerRecord,
  type PodRecord,
} from './status.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const ran = (exitCode: number): ContainerRecord => ({
  name: 'c',
  image: 'i',
  restartCount: 0,
  terminated: {
    exitCode,
    reason: exitCode === 0 ? 'Completed' : 'Error',
    startedAt: t0,
    finishedAt: t0,
    containerID: 'proc://1',
  },
});
const running: ContainerRecord = {
  name: 'r',
  image: 'i',
  restartCount: 0,
  running: { startedAt: t0, containerID: 'proc://2' },
};
const waiting: ContainerRecord = { name: 'w', image: 'i', restartCount: 0 };
const pod = (restartPolicy: PodRecord['restartPolicy'], ...containers: ContainerRecord[]): PodRecord => ({
  podIP: '127.42.0.2',
  startTime: t0,
  restartPolicy,
  containers,
});

describe('status: pod phase from container records', () => {
  const cases: [string, PodRecord, string][] = [
    ['nothing started yet', pod('Never', waiting), 'Pending'],
    ['one running', pod('Never', running), 'Running'],
    ['all exited 0 under Never', pod('Never', ran(0)), 'Succeeded'],
    ['one failed under Never', pod('Never', ran(0), ran(2)), 'Failed'],
    ['failed but restarting under OnFailure', pod('OnFailure', ran(1)), 'Running'],
    ['exited 0 under OnFailure', pod('OnFailure', ran(0)), 'Succeeded'],
    ['exited 0 under Always restarts', pod('Always', ran(0)), 'Running'],
    ['one still running beside one done', pod('Never', ran(0), running), 'Running'],
  ];
  for (const [name, rec, phase] of cases) it(name, () => expect(podPhase(rec)).to.equal(phase));
});

describe('status: restart policy', () => {
  const cases: [PodRecord['restartPolicy'], number, boolean][] = [
    ['Always', 0, true],
    ['Always', 1, true],
    ['OnFailure', 0, false],
    ['OnFailure', 1, true],
    ['Never', 1, false],
  ];
  for (const [policy, code, want] of cases) {
    it(`${policy} after exit ${code}: ${want ? 'restart' : 'stay down'}`, () =>
      expect(shouldRestart(policy, code)).to.equal(want));
  }
});

describe('status: pods/status body', () => {
  it('reports a running pod Ready with its own address', () => {
    const s = podStatus(pod('Always', running), t0);
    expect(s.phase).to.equal('Running');
    expect(s.podIP).to.equal('127.42.0.2');
    expect(s.podIPs).to.deep.equal([{ ip: '127.42.0.2' }]);
    expect(s.conditions?.find((c) => c.type === 'Ready')?.status).to.equal('True');
    expect(s.containerStatuses?.[0]).to.include({ ready: true, started: true, containerID: 'proc://2' });
  });

  it('holds a running container unready until its readiness probe passes', () => {
    const probing = podStatus(pod('Always', { ...running, probedReady: false }), t0);
    expect(probing.phase).to.equal('Running');
    expect(probing.containerStatuses?.[0]).to.include({ ready: false, started: true });
    for (const type of ['ContainersReady', 'Ready'])
      expect(probing.conditions?.find((c) => c.type === type)).to.include({
        status: 'False',
        reason: 'ContainersNotReady',
      });
    const passed = podStatus(pod('Always', { ...running, probedReady: true }), t0);
    expect(passed.conditions?.find((c) => c.type === 'Ready')?.status).to.equal('True');
  });

  it('reports a finished pod with terminated states and PodCompleted', () => {
    const s = podStatus(pod('Never', ran(3)), t0);
    expect(s.phase).to.equal('Failed');
    expect(s.containerStatuses?.[0]?.state?.terminated).to.include({ exitCode: 3, reason: 'Error' });
    expect(s.conditions?.find((c) => c.type === 'Ready')).to.include({
      status: 'False',
      reason: 'PodCompleted',
    });
  });

  it('keeps the last termination of a restarted container', () => {
    const c: ContainerRecord = { ...running, restartCount: 1, lastTerminated: ran(137).terminated };
    const s = podStatus(pod('Always', c), t0);
    expect(s.containerStatuses?.[0]?.restartCount).to.equal(1);
    expect(s.containerStatuses?.[0]?.lastState?.terminated?.exitCode).to.equal(137);
  });
});

describe('status: exit codes as a runtime reports them', () => {
  it('passes an exit code through', () =>
    expect(exitOf(4, null)).to.deep.equal({ exitCode: 4, reason: 'Error' }));
  it('0 is Completed', () => expect(exitOf(0, null)).to.deep.equal({ exitCode: 0, reason: 'Completed' }));
  it('SIGKILL is 137', () => expect(exitOf(null, 'SIGKILL').exitCode).to.equal(137));
  it('SIGTERM is 143', () => expect(exitOf(null, 'SIGTERM').exitCode).to.equal(143));
});
