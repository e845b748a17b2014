// No container engine runs here, so the image is checked by what it is made of: the build stage
// compiles exactly the product sources, the final stage holds exactly `npm pack` of that build
// plus production dependencies, and what `npm pack` takes is the whole program behind the CLI.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (f: string) => readFileSync(join(root, f), 'utf8');

interface Stage {
  from: string;
  lines: string[];
}

/** The Dockerfile's stages, continuation lines joined. */
function stages(): Stage[] {
  const text = read('Dockerfile').replace(/\\\n/g, ' ');
  const out: Stage[] = [];
  for (const line of text.split('\n').map((l) => l.trim().replace(/\s+/g, ' '))) {
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('FROM ')) out.push({ from: line, lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

const copies = (s: Stage) =>
  s.lines.filter((l) => l.startsWith('COPY ')).map((l) => l.split(/\s+/).slice(1, -1));

/** Relative imports of a compiled module, followed to the whole program. */
function program(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(join(root, file), 'utf8');
    for (const m of src.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g))
      walk(normalize(join(dirname(file), m[1] ?? '')));
  };
  walk(entry);
  return seen;
}

describe('image: the Dockerfile ships exactly the packed product', () => {
  const [build, final] = stages();
  const tsBuild = JSON.parse(read('tsconfig.build.json')) as { include: string[]; exclude: string[] };

  it('has a build stage and a distroless, non-root final stage', () => {
    expect(stages()).to.have.length(2);
    expect(build?.from).to.match(/^FROM \S+node:\$\{NODE_VERSION\}-trixie-slim AS build$/);
    expect(final?.from).to.match(/^FROM gcr\.io\/distroless\/nodejs26-debian13:nonroot$/);
    expect(final?.lines).to.include('USER 65532:65532');
    expect(final?.lines).to.include('ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cli.js"]');
  });

  it('builds and runs on the Node.js that package.json pins for development and tests', () => {
    const pkg = JSON.parse(read('package.json')) as {
      engines: { node: string };
      devDependencies: Record<string, string>;
    };
    const pinned = pkg.devDependencies.node ?? '';
    const major = pinned.split('.')[0];
    expect(/^ARG NODE_VERSION=(\S+)$/m.exec(read('Dockerfile'))?.[1]).to.equal(pinned);
    expect(final?.from).to.include(`/nodejs${major}-`);
    expect(pkg.engines.node).to.equal(`>=${pinned.split('.').slice(0, 2).join('.')}`);
    expect(pkg.devDependencies['@types/node']?.split('.')[0]).to.equal(major);
    // The tests themselves run on it: the Makefile puts node_modules/.bin first on PATH.
    expect(process.versions.node).to.equal(pinned);
  });

  it('copies only the sources tsconfig.build.json compiles, and the files npm needs', () => {
    const sources = copies(build ?? { from: '', lines: [] }).flat();
    expect(sources.sort()).to.deep.equal(
      ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md']
        .concat(tsBuild.include)
        .sort(),
    );
    expect(tsBuild.exclude).to.deep.equal(['**/*.test.ts']);
  });

  it('installs from the lockfile and packs the build into the final stage, and nothing else', () => {
    const run = build?.lines.filter((l) => l.startsWith('RUN ')).join(' ') ?? '';
    expect(run).to.match(/npm ci --no-audit --no-fund --ignore-scripts/);
    expect(run).to.match(/npx tsc -p tsconfig\.build\.json && npm pack /);
    expect(run).to.match(/npm ci --omit=dev /);
    expect(copies(final ?? { from: '', lines: [] })).to.deep.equal([['--from=build', '/pkg']]);
  });

  it('npm pack takes every module the CLI loads, and no tests, maps or e2e code', function () {
    this.timeout(30_000);
    if (!existsSync(join(root, 'dist/cli.js'))) throw new Error('build first: dist/cli.js is missing');
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: root,
        encoding: 'utf8',
      }),
    ) as { files: { path: string }[] }[];
    const packed = new Set(pack?.files.map((f) => f.path));
    for (const file of program('dist/cli.js')) expect(packed, `the image lacks ${file}`).to.include(file);
    const compiled = [...packed].filter((f) => f.startsWith('dist/'));
    for (const f of compiled) {
      expect(f).to.not.match(/\.test\.js$|\.map$|^dist\/e2e\//);
      const source = relative('dist', f).replace(/\.js$/, '.ts');
      expect(existsSync(join(root, source)), `${f} is compiled from no source (stale build?)`).to.equal(true);
      const dir = source.includes('/') ? source.split('/')[0] : source;
      expect(tsBuild.include, `${f} is outside the build`).to.include(dir);
    }
    expect([...packed].filter((f) => !f.startsWith('dist/')).sort()).to.deep.equal([
      'README.md',
      'package.json',
    ]);
  });
});
