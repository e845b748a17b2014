import { expect } from 'chai';
import { expand } from './expand.js';

describe('expand: Kubernetes $(VAR) expansion', () => {
  const vars: Record<string, string> = { A: 'alpha', B: 'b$(A)', EMPTY: '' };
  const cases: [string, string, string][] = [
    ['no references', 'plain text', 'plain text'],
    ['a defined variable', 'x$(A)y', 'xalphay'],
    ['values are not expanded again', '$(B)', 'b$(A)'],
    ['an undefined variable stays as written', '$(NOPE)', '$(NOPE)'],
    ['an empty value', '[$(EMPTY)]', '[]'],
    ['$$ escapes a reference', '$$(A)', '$(A)'],
    ['$$ alone is one $', 'cost: $$5', 'cost: $5'],
    ['a lone $ before other text', 'a$b', 'a$b'],
    ['a trailing $', 'end$', 'end$'],
    ['an unterminated reference', '$(A', '$(A'],
    ['shell syntax is data', '$(rm -rf /)', '$(rm -rf /)'],
    ['adjacent references', '$(A)$(A)', 'alphaalpha'],
    ['unicode around references', 'ünï$(A)cødé', 'ünïalphacødé'],
  ];
  for (const [name, input, want] of cases) {
    it(name, () => expect(expand(input, (n) => vars[n])).to.equal(want));
  }
});
