// The processes `make run` starts: each in its own process group (so a terminal's Ctrl-C reaches
// only the run script, which stops them in order), its output in a log file, its pid recorded so
// a run killed without cleanup is cleaned up by the next one.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { isAlive, stopGroup } from '../e2e/cluster/process.js';

export interface Child {
  name: string;
  pid: number;
  logFile: string;
  process: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<string>;
}

export interface StartOptions {
  /** Receives each stdout line (which also goes to the log file) instead of the file alone. */
  onLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** Starts `argv` with its output in `logFile`, which it starts afresh (ports are read from it). */
export function startChild(name: string, argv: string[], logFile: string, opts: StartOptions = {}): Child {
  // Emptied, then appended to by every writer (the child's stderr and our copy of its stdout
  // lines), so no writer overwrites another's lines.
  closeSync(openSync(logFile, 'w'));
  const log = openSync(logFile, 'a');
  try {
    const [cmd = '', ...args] = argv;
    const proc = spawn(cmd, args, {
      detached: true,
      stdio: ['ignore', opts.onLine ? 'pipe' : log, log],
      env: opts.env ?? process.env,
    });
    if (proc.pid === undefined) throw new Error(`could not start ${cmd}`);
    if (opts.onLine && proc.stdout) {
      const out = openSync(logFile, 'a');
      const onLine = opts.onLine;
      const lines = createInterface({ input: proc.stdout });
      lines.on('line', (line) => {
        writeFileSync(out, `${line}\n`);
        onLine(line);
      });
      lines.on('close', () => closeSync(out));
    }
    const exited = new Promise<string>((resolve) =>
      proc.on('exit', (code, signal) => resolve(code !== null ? `exit code ${code}` : `signal ${signal}`)),
    );
    return { name, pid: proc.pid, logFile, process: proc, exited };
  } finally {
    closeSync(log);
  }
}

/** Stops children in reverse start order: SIGTERM to the group, SIGKILL after the grace period. */
export async function stopChildren(
  children: readonly Child[],
  onStopped: (c: Child) => void,
  graceMs = 10_000,
): Promise<void> {
  for (const c of [...children].reverse()) {
    if (c.process.exitCode === null && c.process.signalCode === null) await stopGroup(c.pid, graceMs);
    await c.exited;
    onStopped(c);
  }
}

interface Recorded {
  name: string;
  pid: number;
  /** A piece of the command line, so a recycled pid is never mistaken for ours. */
  marker: string;
}

export function recordPids(file: string, children: readonly Child[], marker: string): void {
  const rows: Recorded[] = children.map((c) => ({ name: c.name, pid: c.pid, marker }));
  writeFileSync(file, JSON.stringify(rows, null, 2), { mode: 0o600 });
}

/** Stops what a previous run recorded and left running (it was killed before it could clean up). */
export async function stopLeftovers(file: string, log: (s: string) => void): Promise<void> {
  if (!existsSync(file)) return;
  const rows = JSON.parse(readFileSync(file, 'utf8')) as Recorded[];
  for (const r of rows) {
    if (!isAlive(r.pid) || !commandLine(r.pid).includes(r.marker)) continue;
    log(`stopping the ${r.name} a previous run left behind (pid ${r.pid})`);
    await stopGroup(r.pid, 5000);
  }
  writeFileSync(file, '[]', { mode: 0o600 });
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}
