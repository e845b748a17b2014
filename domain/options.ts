// Command-line options with environment fallbacks, read once at start-up: `--flag value` or
// `--flag=value` beats `ENV_VAR`, which beats the default. Pure (argv and env are arguments), so
// every component reads its configuration the same way and tests it without a process.

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
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    if (!m?.[1]) throw new OptionError(`unexpected argument "${arg}"`);
    if (!(m[1] in specs)) throw new OptionError(`unknown option --${m[1]}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new OptionError(`--${m[1]} needs a value`);
    given.set(m[1], value);
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = given.get(name) ?? env[spec.env];
    try {
      out[name] = raw === undefined || raw === '' ? spec.default : spec.parse(raw);
    } catch (err) {
      const from = given.has(name) ? `--${name}` : spec.env;
      throw new OptionError(`${from}: ${(err as Error).message} (got "${raw}")`);
    }
  }
  return out as Values<S>;
}

export function usage<S extends Record<string, OptionSpec<unknown>>>(command: string, specs: S): string {
  const rows = Object.entries(specs).map(
    ([name, s]) => `  --${name.padEnd(30)} ${s.help} [env ${s.env}; default ${JSON.stringify(s.default)}]`,
  );
  return `Usage: qinling-jobs ${command} [options]\n\n${rows.join('\n')}`;
}
