import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DomainError } from './errors.js';
import { MESSAGES } from './rules.js';
import type { QinlingJob } from './types.js';
import { readTime, specFromCreate, specFromUpdate, toWire, wireTime } from './wire.js';

const now = new Date('2026-11-27T12:00:30Z');
const FID = '5b2a7c1e-1111-4222-8333-944455556666';
const create = (b: Record<string, unknown>) =>
  specFromCreate(
    {
      name: null,
      function_id: FID,
      function_alias: null,
      function_version: 0,
      function_input: null,
      first_execution_time: null,
      pattern: null,
      count: null,
      ...b,
    },
    now,
  );

function refused(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(DomainError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('wire: times', () => {
  const cases: [string, string][] = [
    ['2026-11-27 14:15:06', '2026-11-27T14:15:06.000Z'],
    ['2026-11-27 14:15:06.217819', '2026-11-27T14:15:06.217Z'],
    ['2026-11-27T14:15:06Z', '2026-11-27T14:15:06.000Z'],
    ['2026-11-27T14:15', '2026-11-27T14:15:00.000Z'],
    ['2026-11-27T16:15:06+02:00', '2026-11-27T14:15:06.000Z'],
  ];
  for (const [raw, want] of cases)
    it(`reads "${raw}" as UTC`, () => expect(readTime('t', raw).toISOString()).to.equal(want));
  const edges: [string, string][] = [
    ['2026-11-27T14:15:06+14:00', '2026-11-27T00:15:06.000Z'],
    ['2026-11-27T14:15:06-12:00', '2026-11-28T02:15:06.000Z'],
    ['2026-11-27T14:15:06+05:45', '2026-11-27T08:30:06.000Z'],
    ['2100-12-31T23:59:59Z', '2100-12-31T23:59:59.000Z'],
  ];
  for (const [raw, want] of edges)
    it(`reads "${raw}"`, () => expect(readTime('t', raw).toISOString()).to.equal(want));
  for (const bad of [
    'tomorrow',
    '2026-02-30 10:00:00',
    '2026-11-27 25:00:00',
    '',
    '2026-11-27T14:15:06+99:99',
    '2026-11-27T14:15:06+14:01',
    '2026-11-27T14:15:06-15:00',
    '2026-11-27T14:15:06+05:60',
    '2101-01-01T00:00:00Z',
    '2100-12-31T23:59:59-00:01',
    '9999-06-01 00:00:00',
  ]) {
    it(`refuses "${bad}"`, () =>
      expect(refused(() => readTime('first_execution_time', bad))).to.contain(
        'Invalid first_execution_time',
      ));
  }
  it('writes whole seconds in UTC', () =>
    expect(wireTime('2026-11-27T14:15:06.789Z')).to.equal('2026-11-27T14:15:06Z'));
});

describe("wire: create follows Qinling's rules", () => {
  it('takes a recurring job', () => {
    expect(create({ pattern: '*/5 * * * *', count: 3, name: 'n', function_input: '{"a": 1}' })).to.deep.equal(
      {
        functionVersion: 0,
        timeZone: 'Etc/UTC',
        name: 'n',
        functionId: FID,
        functionInput: '{"a": 1}',
        pattern: '*/5 * * * *',
        count: 3,
      },
    );
  });
  it('takes a one-shot job a minute ahead, to the second', () => {
    expect(create({ first_execution_time: '2026-11-27 12:01:31' }).firstExecutionTime).to.equal(
      '2026-11-27T12:01:31Z',
    );
  });
  const bad: [string, Record<string, unknown>, string][] = [
    ['no function', { function_id: null }, 'Either function_alias or function_id must be provided.'],
    ['no pattern and no time', {}, 'pattern or first_execution_time must be specified.'],
    [
      'a time under a minute ahead',
      { first_execution_time: '2026-11-27 12:01:00' },
      'Execution time must be at least 1 minute in the future.',
    ],
    [
      'a count without pattern',
      { first_execution_time: '2026-11-27 13:00:00', count: 2 },
      'pattern must be provided if count is greater than 1.',
    ],
    ['a bad pattern', { pattern: '0 0 30 2 *' }, 'The specified pattern is not valid: 0 0 30 2 *'],
    ['six fields', { pattern: '* * * * * *' }, 'The specified pattern is not valid: * * * * * *'],
    ['count 0', { pattern: '* * * * *', count: 0 }, 'count must be greater than 0.'],
    ['count as text', { pattern: '* * * * *', count: '2' }, 'Invalid count'],
    ['a fractional count', { pattern: '* * * * *', count: 1.5 }, 'Invalid count'],
    ['a count past 2^53', { pattern: '* * * * *', count: 2 ** 53 + 1 }, 'Invalid count'],
    ['a negative count', { pattern: '* * * * *', count: -1 }, 'count must be greater than 0.'],
    [
      'mass assignment of id and status',
      { pattern: '* * * * *', id: 'x', status: 'done' },
      'Unknown attribute(s): id, status',
    ],
    [
      'input as an object',
      { pattern: '* * * * *', function_input: { a: 1 } },
      'Invalid function_input: must be a string.',
    ],
    ['a negative version', { pattern: '* * * * *', function_version: -1 }, 'Invalid function_version'],
    ['a version of 1e300', { pattern: '* * * * *', function_version: 1e300 }, 'Invalid function_version'],
    ['a version of 2^63', { pattern: '* * * * *', function_version: 2 ** 63 }, 'Invalid function_version'],
    ['a version past 2^53', { pattern: '* * * * *', function_version: 2 ** 53 }, 'Invalid function_version'],
    [
      'a first time in 9999',
      { pattern: '0 0 1 1 *', first_execution_time: '9999-06-01 00:00:00' },
      'Invalid first_execution_time: 9999-06-01 00:00:00',
    ],
    [
      'a first run that would come after 2100 (no 29 Feb in 2100)',
      { pattern: '0 0 29 2 *', first_execution_time: '2100-01-01 00:00:00' },
      'Invalid first_execution_time: the first run would be after 2100.',
    ],
    [
      'a first run that would come after 2100 (next year)',
      { pattern: '0 0 1 1 *', first_execution_time: '2100-06-01 00:00:00' },
      'Invalid first_execution_time: the first run would be after 2100.',
    ],
    [
      'an offset of +99:99',
      { first_execution_time: '2026-11-28T12:00:00+99:99' },
      'Invalid first_execution_time: 2026-11-28T12:00:00+99:99',
    ],
    [
      'an input over 64 KiB in UTF-8 (65,536 characters, 196,608 bytes)',
      { pattern: '* * * * *', function_input: '€'.repeat(65_536) },
      'Invalid function_input: longer than 65536 bytes (UTF-8).',
    ],
    [
      'an input one byte over',
      { pattern: '* * * * *', function_input: `${'a'.repeat(65_535)}é` },
      'Invalid function_input: longer than 65536 bytes (UTF-8).',
    ],
    [
      'an input with a NUL',
      { pattern: '* * * * *', function_input: '{"a": "x\u0000y"}' },
      'Invalid function_input: must not contain NUL characters.',
    ],
    ...['.', '..', 'a/b', '../admin', 'tab\there', 'line\nbreak', 'del\x7f', 'c1\x85'].map(
      (a): [string, Record<string, unknown>, string] => [
        `function_alias ${JSON.stringify(a)}`,
        { function_id: null, function_alias: a, pattern: '* * * * *' },
        'Invalid function_alias: must not be . or .., nor contain / or control characters.',
      ],
    ),
    ['an unknown key', { pattern: '* * * * *', project_id: 'x' }, 'Unknown attribute(s): project_id'],
    ['a non-uuid function id', { function_id: 'abc', pattern: '* * * * *' }, 'Invalid function_id: abc'],
  ];
  for (const [name, body, msg] of bad)
    it(`refuses ${name}`, () => expect(refused(() => create(body))).to.contain(msg));
  it('refuses a body that is not an object', () =>
    expect(refused(() => specFromCreate([], now))).to.contain('JSON object'));
  const takes: [string, Record<string, unknown>, Partial<Record<string, unknown>>][] = [
    [
      'an input of exactly 64 KiB',
      { function_input: 'a'.repeat(65_536) },
      { functionInput: 'a'.repeat(65_536) },
    ],
    [
      'a 64 KiB input in 2-byte characters',
      { function_input: 'é'.repeat(32_768) },
      { functionInput: 'é'.repeat(32_768) },
    ],
    ['a version of 2^53 - 1', { function_version: 2 ** 53 - 1 }, { functionVersion: 2 ** 53 - 1 }],
    [
      'aliases with dots inside',
      { function_id: null, function_alias: 'v1.2..3' },
      { functionAlias: 'v1.2..3' },
    ],
    [
      'a non-ASCII alias',
      { function_id: null, function_alias: 'fonction-été' },
      { functionAlias: 'fonction-été' },
    ],
    [
      'a last run in 2100',
      { pattern: '0 0 31 12 *', first_execution_time: '2100-12-31 00:00:00' },
      { firstExecutionTime: '2100-12-31T00:00:00Z' },
    ],
  ];
  for (const [name, body, want] of takes)
    it(`takes ${name}`, () => expect(create({ pattern: '* * * * *', ...body })).to.deep.include(want));
});

function job(spec: QinlingJob['spec'], status?: QinlingJob['status']): QinlingJob {
  return {
    apiVersion: 'qinling.io/v1',
    kind: 'QinlingJob',
    metadata: { name: 'job-x', namespace: 'p1', uid: 'u-1', creationTimestamp: '2026-11-27T12:00:10Z' },
    spec: { functionId: FID, ...spec },
    ...(status ? { status } : {}),
  };
}

describe('wire: update', () => {
  const recurring = job(
    { pattern: '* * * * *' },
    { phase: 'Running', nextExecutionTime: '2026-11-27T12:01:00Z' },
  );
  const upd = (j: QinlingJob, b: Record<string, unknown>) =>
    specFromUpdate(
      { name: null, status: null, pattern: null, next_execution_time: null, function_input: null, ...b },
      j,
      now,
    );
  it('null means unchanged', () => expect(upd(recurring, {})).to.deep.equal({}));
  it('pause, resume, cancel', () => {
    expect(upd(recurring, { status: 'paused' })).to.deep.equal({ suspend: true });
    expect(upd(recurring, { status: 'running' })).to.deep.equal({ suspend: false });
    expect(upd(recurring, { status: 'cancelled' })).to.deep.equal({ cancelled: true });
  });
  it('moves the next run, taken as given', () => {
    expect(upd(recurring, { next_execution_time: '2026-11-27 12:05:07' })).to.deep.equal({
      nextExecutionTime: '2026-11-27T12:05:07Z',
    });
  });
  const bad: [string, QinlingJob, Record<string, unknown>, string][] = [
    [
      'a done job',
      job({ pattern: '* * * * *' }, { phase: 'Done' }),
      { name: 'x' },
      'Can not update a finished job.',
    ],
    [
      'a cancelled job',
      job({ pattern: '* * * * *', cancelled: true }, { phase: 'Cancelled' }),
      { status: 'running' },
      'Can not update a finished job.',
    ],
    ['status done', recurring, { status: 'done' }, 'Invalid status.'],
    [
      'a pattern on a one-shot',
      job({ firstExecutionTime: '2026-11-27T13:00:00Z' }),
      { pattern: '* * * * *' },
      'Can not change job type.',
    ],
    ['removing the pattern', recurring, { pattern: '' }, 'Can not change job type.'],
    ['a bad pattern', recurring, { pattern: '61 * * * *' }, 'The specified pattern is not valid: 61 * * * *'],
    [
      'a next time too soon',
      recurring,
      { next_execution_time: '2026-11-27 12:01:00' },
      'Execution time must be at least 1 minute in the future.',
    ],
    ['an unknown key', recurring, { count: 3 }, 'Unknown attribute(s): count'],
    [
      'an input over 64 KiB in UTF-8',
      recurring,
      { function_input: '€'.repeat(30_000) },
      'Invalid function_input: longer than 65536 bytes (UTF-8).',
    ],
    ['an input with a NUL', recurring, { function_input: 'a\u0000' }, 'must not contain NUL characters.'],
    [
      'a next time after 2100',
      recurring,
      { next_execution_time: '2101-01-01 00:00:00' },
      'Invalid next_execution_time: 2101-01-01 00:00:00',
    ],
    [
      'resuming a one-shot whose time is too near',
      job(
        { firstExecutionTime: '2026-11-27T12:01:00Z', suspend: true },
        { phase: 'Paused', nextExecutionTime: '2026-11-27T12:01:00Z' },
      ),
      { status: 'running' },
      'Execution time must be at least 1 minute in the future.',
    ],
  ];
  for (const [name, j, body, msg] of bad)
    it(`refuses ${name}`, () => expect(refused(() => upd(j, body))).to.contain(msg));
});

describe('wire: the job as the client sees it', () => {
  it('has exactly the 14 fields, with the operator-written status', () => {
    const w = toWire(
      job(
        { name: 'nightly', pattern: '0 3 * * *', count: 5, functionInput: 'x' },
        {
          phase: 'Running',
          firstExecutionTime: '2026-11-28T03:00:00.000Z',
          nextExecutionTime: '2026-11-29T03:00:00.000Z',
          remaining: 4,
        },
      ),
      'proj-1',
    );
    expect(w).to.deep.equal({
      id: 'u-1',
      name: 'nightly',
      function_id: FID,
      function_alias: null,
      function_version: 0,
      function_input: 'x',
      status: 'running',
      pattern: '0 3 * * *',
      count: 4,
      first_execution_time: '2026-11-28T03:00:00Z',
      next_execution_time: '2026-11-29T03:00:00Z',
      project_id: 'proj-1',
      created_at: '2026-11-27T12:00:10Z',
      updated_at: null,
    });
  });
  it('before the operator has seen it: the first run as the operator will plan it', () => {
    const w = toWire(job({ pattern: '*/5 * * * *', count: 2 }), 'p');
    expect(w.first_execution_time).to.equal('2026-11-27T12:05:00Z');
    expect(w.next_execution_time).to.equal(w.first_execution_time);
    expect(w.count).to.equal(2);
    expect(w.status).to.equal('running');
  });
  it('maps phases and the asked-for state to Qinling statuses', () => {
    const cases: [QinlingJob['spec'], QinlingJob['status'], string][] = [
      [{}, { phase: 'Running' }, 'running'],
      [{ suspend: true }, { phase: 'Paused' }, 'paused'],
      [{ suspend: true }, { phase: 'Running' }, 'paused'], // a PUT the operator has not seen yet
      [{}, { phase: 'Done' }, 'done'],
      [{ cancelled: true }, { phase: 'Running' }, 'cancelled'],
      [{}, { phase: 'Failed' }, 'error'],
    ];
    for (const [spec, status, want] of cases) {
      expect(toWire(job({ pattern: '* * * * *', ...spec }, status), 'p').status).to.equal(want);
    }
  });
});

describe('wire: the CRD refuses what the REST API refuses', () => {
  interface Field {
    pattern?: string;
    maximum?: number;
    'x-kubernetes-validations'?: { rule: string }[];
  }
  const crd = parse(
    readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../crds/qinlingjob.yaml'), 'utf8'),
  ) as {
    spec: {
      versions: {
        schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, Field> } } } };
      }[];
    };
  };
  const fields = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec.properties ?? {};
  // The apiserver's patterns are Go (RE2) syntax; these ones mean the same in JavaScript.
  const matches = (f: string, v: string) => new RegExp(fields[f]?.pattern ?? '', 'u').test(v);
  const restTakes = (body: Record<string, unknown>) => {
    try {
      create({ pattern: '* * * * *', ...body });
      return true;
    } catch {
      return false;
    }
  };
  for (const a of ['fn', 'v1.2', '...', 'été', '.', '..', 'a/b', 'x\ty', 'x\u0000', 'x\u007f', 'x\u0085']) {
    it(`function_alias ${JSON.stringify(a)}`, () => {
      // The CEL rule beside the pattern refuses exactly . and ..
      const rule = fields.functionAlias?.['x-kubernetes-validations']?.[0]?.rule;
      expect(rule).to.equal("self != '.' && self != '..'");
      const crdTakes = matches('functionAlias', a) && a !== '.' && a !== '..';
      expect(crdTakes).to.equal(restTakes({ function_id: null, function_alias: a }));
    });
  }
  for (const i of ['{"a": 1}', 'x\u0000y', '\u0000', '']) {
    it(`function_input ${JSON.stringify(i)}`, () =>
      expect(matches('functionInput', i)).to.equal(restTakes({ function_input: i })));
  }
  it('function_version: the largest safe integer', () =>
    expect(fields.functionVersion?.maximum).to.equal(Number.MAX_SAFE_INTEGER));
});

describe('wire: policies are optional keys (issue 16)', () => {
  const policies = {
    max_attempts: 3,
    min_backoff_seconds: 2,
    max_backoff_seconds: 30,
    attempt_deadline_seconds: 10,
  };
  it('a create takes them into the spec', () =>
    expect(create({ pattern: '* * * * *', ...policies })).to.deep.include({
      maxAttempts: 3,
      minBackoffSeconds: 2,
      maxBackoffSeconds: 30,
      attemptDeadlineSeconds: 10,
    }));
  it('a job that sets them shows them; one that does not shows the 14 fields only', () => {
    const set = toWire(job({ pattern: '* * * * *', maxAttempts: 3, attemptDeadlineSeconds: 10 }), 'p');
    expect(set).to.include({ max_attempts: 3, attempt_deadline_seconds: 10 });
    expect(set).to.not.have.property('min_backoff_seconds');
    expect(Object.keys(toWire(job({ pattern: '* * * * *' }), 'p'))).to.have.length(14);
  });
  it('an update changes one, null leaves it', () => {
    const j = job({ pattern: '* * * * *', maxAttempts: 3 }, { phase: 'Running' });
    expect(specFromUpdate({ max_attempts: 5 }, j, now)).to.deep.equal({ maxAttempts: 5 });
    expect(specFromUpdate({ max_attempts: null }, j, now)).to.deep.equal({});
  });
  const bad: [string, Record<string, unknown>, string][] = [
    ['11 attempts', { max_attempts: 11 }, 'Invalid max_attempts: must be an integer from 1 to 10.'],
    ['0 attempts', { max_attempts: 0 }, 'Invalid max_attempts: must be an integer from 1 to 10.'],
    ['a string', { attempt_deadline_seconds: '10' }, 'Invalid attempt_deadline_seconds: must be an integer.'],
    ['min above max', { min_backoff_seconds: 10, max_backoff_seconds: 5 }, MESSAGES.backoffOrder],
  ];
  for (const [name, body, msg] of bad)
    it(`refuses ${name}`, () =>
      expect(refused(() => create({ pattern: '* * * * *', ...body }))).to.equal(msg));
  it('refuses min above the max the job already has', () =>
    expect(
      refused(() =>
        specFromUpdate(
          { min_backoff_seconds: 40 },
          job({ pattern: '* * * * *', maxBackoffSeconds: 30 }),
          now,
        ),
      ),
    ).to.equal(MESSAGES.backoffOrder));
});
