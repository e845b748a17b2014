// Static tokens: the token file, re-read when it changes; a malformed line or a missing file is
// logged, never a reason to keep the previous (possibly revoked) tokens.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseTokenFile, StaticTokens, tokenKey } from './auth.js';

describe('parseTokenFile', () => {
  const cases: { name: string; text: string; tokens: string[]; errors: string[] }[] = [
    {
      name: 'lines, comments and blank lines',
      text: '# a comment\ntok-1,alice,p-1,member\n\n  tok-2 , bob , p-2 , admin;member \n',
      tokens: ['tok-1', 'tok-2'],
      errors: [],
    },
    {
      name: 'a malformed line is skipped, the rest applies',
      text: 'tok-1,alice,p-1,member\nsecret-half-line,carol\n,dave,p-4\ntok-3,erin,p-3\n',
      tokens: ['tok-1', 'tok-3'],
      errors: [
        'token file line 2: expected token,user_id,project_id,roles; line skipped',
        'token file line 3: expected token,user_id,project_id,roles; line skipped',
      ],
    },
  ];
  for (const tc of cases)
    it(tc.name, () => {
      const got = parseTokenFile(tc.text);
      expect([...got.tokens.keys()]).to.deep.equal(tc.tokens.map(tokenKey));
      expect(got.errors).to.deep.equal(tc.errors);
    });

  it('keys callers by the SHA-256 of the token, never the token itself', () => {
    const { tokens } = parseTokenFile('tok-1,alice,p-1,admin;member\n');
    expect([...tokens.keys()]).to.deep.equal([createHash('sha256').update('tok-1').digest('hex')]);
    expect(tokens.get(tokenKey('tok-1'))).to.deep.equal({
      userId: 'alice',
      projectId: 'p-1',
      roles: ['admin', 'member'],
      isAdmin: true,
    });
  });

  it('the admin role is configurable', () => {
    const { tokens } = parseTokenFile('tok-1,alice,p-1,admin\ntok-2,bob,p-1,ops\n', 'ops');
    expect(tokens.get(tokenKey('tok-1'))?.isAdmin).to.equal(false);
    expect(tokens.get(tokenKey('tok-2'))?.isAdmin).to.equal(true);
  });
});

describe('StaticTokens', () => {
  let dir: string;
  let file: string;
  let clock: number;
  let logged: string[];
  let mtime: number;
  /** Writes the file with a new mtime, so a reload sees the change whatever the file system's resolution. */
  const write = (text: string) => {
    writeFileSync(file, text);
    mtime += 10;
    utimesSync(file, mtime, mtime);
  };
  const make = () =>
    new StaticTokens(file, {
      loaded: (n, skipped) => logged.push(`loaded ${n}, skipped ${skipped}`),
      problem: (m) => logged.push(m),
      now: () => clock,
    });
  /** Past the once-a-second check. */
  const later = () => (clock += 1001);

  beforeEach(() => {
    dir = mkdtempSync(`${tmpdir()}/qj-tokens-`);
    file = `${dir}/tokens.csv`;
    clock = 1_000_000;
    logged = [];
    mtime = 1_700_000_000;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a removed file revokes every token, and says so once', async () => {
    write('tok-old,alice,p-1,member\n');
    const auth = make();
    expect((await auth.authenticate('tok-old'))?.userId).to.equal('alice');
    rmSync(file);
    later();
    expect(await auth.authenticate('tok-old')).to.equal(undefined);
    later();
    expect(await auth.authenticate('tok-old')).to.equal(undefined);
    expect(logged).to.deep.equal([
      'loaded 1, skipped 0',
      `token file ${file} cannot be read (ENOENT): no token is accepted`,
    ]);
    write('tok-new,bob,p-2,member\n');
    later();
    expect((await auth.authenticate('tok-new'))?.userId).to.equal('bob');
  });

  it('a rewrite with a malformed line applies the good lines and revokes the removed tokens', async () => {
    write('tok-old,alice,p-1,member\ntok-keep,carol,p-1,member\n');
    const auth = make();
    write('tok-keep,carol,p-1,member\ntok-broken-line\ntok-new,bob,p-2,member\n');
    later();
    expect(await auth.authenticate('tok-old')).to.equal(undefined);
    expect((await auth.authenticate('tok-keep'))?.userId).to.equal('carol');
    expect((await auth.authenticate('tok-new'))?.userId).to.equal('bob');
    expect(logged).to.deep.equal([
      'loaded 2, skipped 0',
      'token file line 2: expected token,user_id,project_id,roles; line skipped',
      'loaded 2, skipped 1',
    ]);
    expect(logged.join('\n')).to.not.match(/tok-/);
  });

  it('starts with no tokens when the file is missing', async () => {
    const auth = make();
    expect(await auth.authenticate('anything')).to.equal(undefined);
    expect(logged).to.have.length(1);
  });

  it('refuses a token differing in one character or in case', async () => {
    write('tok-abc,alice,p-1,member\n');
    const auth = make();
    for (const t of ['tok-abd', 'TOK-ABC', 'tok-ab', 'tok-abcd', ''])
      expect(await auth.authenticate(t), t).to.equal(undefined);
  });
});
