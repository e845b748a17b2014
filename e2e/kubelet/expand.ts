// Kubernetes' `$(VAR)` expansion for env values, command and args, with its exact rules:
// `$$` is an escaped `$`, `$(NAME)` is replaced when NAME is defined and kept verbatim when not,
// and an unterminated `$(` stays as written. A program that hands data to a pod through env or
// args must escape `$` as `$$`, or the kubelet rewrites it; this stand-in does the same.
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      i += 1;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += '$(';
        i += 2;
      } else {
        const name = input.slice(i + 2, close);
        out += lookup(name) ?? `$(${name})`;
        i = close + 1;
      }
    } else {
      out += '$';
      i += 1;
    }
  }
  return out;
}
