// Command-line options with environment fallbacks, read once at start-up: `--flag value` or
// `--flag=value` (Node's util.parseArgs) beats `ENV_VAR`, which beats the default. argv and env
// are arguments, so every component reads its configuration the same way and tests it without a
// process. What is ours is the part parseArgs leaves out: the environment, typed and bounded
// values, and one error message per refusal.
import { parseArgs } from 'node:util';

export interface OptionSpec<T> {
  env: string;
  help: string;
  default: T;
  parse: (raw: string) => T;
}

export class OptionError extends Error {}

export const str = (help: string, env: string, def: string): OptionSpec<string> => ({
  env,
  help,
  default: def,
  parse: (s) => s,
});

export const int = (
  help: string,
  env: string,
  def: number,
  min: number,
  max: number,
): OptionSpec<number> => ({
  env,
  help,
  default: def,
  parse: (s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new OptionError(`must be an integer from ${min} to ${max}`);
    return n;
  },
});

export const bool = (help: string, env: string, def: boolean): OptionSpec<boolean> => ({
  env,
  help,
  default: def,
  parse: (s) => {
    if (/^(true|1|yes)$/i.test(s)) return true;
    if (/^(false|0|no)$/i.test(s)) return false;
    throw new OptionError('must be true or false');
  },
});

export const oneOf = <T extends string>(
  help: string,
  env: string,
  def: T,
  values: readonly T[],
): OptionSpec<T> => ({
  env,
  help,
  default: def,
  parse: (s) => {
    if (!(values as readonly string[]).includes(s))
      throw new OptionError(`must be one of ${values.join(', ')}`);
    return s as T;
  },
});

export const list = (help: string, env: string): OptionSpec<string[]> => ({
  env,
  help,
  default: [],
  parse: (s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
});

type Values<S> = { [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never };

export function readOptions<S extends Record<string, OptionSpec<unknown>>>(
  specs: S,
  argv: readonly string[],
  env: Record<string, string | undefined>,
): Values<S> {
  const given = flags(Object.keys(specs), argv);
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = given[name] ?? env[spec.env];
    try {
      out[name] = raw === undefined || raw === '' ? spec.default : spec.parse(raw);
    } catch (err) {
      const from = given[name] !== undefined ? `--${name}` : spec.env;
      throw new OptionError(`${from}: ${(err as Error).message} (got "${raw}")`);
    }
  }
  return out as Values<S>;
}

/** The flags given, by Node's parser: every option takes a value; the last one given wins. */
function flags(names: string[], argv: readonly string[]): Record<string, string | undefined> {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    });
    return values;
  } catch (err) {
    throw new OptionError(flagError(err as Error & { code?: string }));
  }
}

/** parseArgs's refusals in our words, naming the argument at fault. */
function flagError(err: Error & { code?: string }): string {
  const quoted = /'(-[^' ]*)/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted.replace(/=.*$/s, '')}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${/argument '(.*)'\./s.exec(err.message)?.[1] ?? ''}"`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(err.message)
        ? `${quoted} needs a value`
        : `${quoted}: a value starting with "-" is written ${quoted}=<value>`;
    default:
      return err.message;
  }
}

export function usage<S extends Record<string, OptionSpec<unknown>>>(command: string, specs: S): string {
  const rows = Object.entries(specs).map(
    ([name, s]) => `  --${name.padEnd(30)} ${s.help} [env ${s.env}; default ${JSON.stringify(s.default)}]`,
  );
  return `Usage: qinling-jobs ${command} [options]\n\n${rows.join('\n')}`;
}
