// Named start-up steps, shared by cluster-up and make run: each step says "ok (1.2s)" or fails
// naming itself and the log that explains it.
import { existsSync, readFileSync } from 'node:fs';

export class StepError extends Error {
  constructor(
    readonly step: string,
    override readonly cause: unknown,
    readonly logFile?: string,
  ) {
    super(`step "${step}" failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export type Step = <T>(name: string, logFile: string | undefined, fn: () => Promise<T> | T) => Promise<T>;

/** A step runner that reports through `say`; a failing nested step keeps its own name. */
export function steps(say: (line: string) => void): Step {
  return async (name, logFile, fn) => {
    const started = Date.now();
    try {
      const out = await fn();
      say(`${name}: ok (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      return out;
    } catch (err) {
      throw err instanceof StepError ? err : new StepError(name, err, logFile);
    }
  };
}

/** The last `n` lines of a log file. */
export function logTail(file: string, n = 20): string {
  if (!existsSync(file)) return '(no log written)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
}

/** What to print for a failed step: its message, then its log's name and last lines. */
export function explainFailure(err: unknown, showPath: (p: string) => string = (p) => p): string[] {
  const lines = [err instanceof Error ? err.message : String(err)];
  if (err instanceof StepError && err.logFile)
    lines.push(`log: ${showPath(err.logFile)}; its last lines:`, logTail(err.logFile));
  return lines;
}
