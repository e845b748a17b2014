import { expect } from 'chai';
import { bool, int, list, oneOf, OptionError, readOptions, str } from './options.js';

const specs = {
  port: int('port', 'X_PORT', 7070, 1, 65535),
  mode: oneOf('mode', 'X_MODE', 'qinling', ['qinling', 'http'] as const),
  'leader-elect': bool('le', 'X_LE', true),
  namespaces: list('ns', 'X_NS'),
  url: str('url', 'X_URL', 'http://a'),
};

describe('options: flags with environment fallbacks', () => {
  it('uses defaults', () => {
    expect(readOptions(specs, [], {})).to.deep.equal({
      port: 7070,
      mode: 'qinling',
      'leader-elect': true,
      namespaces: [],
      url: 'http://a',
    });
  });
  it('a flag beats the environment, which beats the default', () => {
    const o = readOptions(specs, ['--port', '8080', '--mode=http'], {
      X_PORT: '9090',
      X_NS: 'a, b',
      X_LE: 'false',
    });
    expect(o).to.deep.include({ port: 8080, mode: 'http', namespaces: ['a', 'b'], 'leader-elect': false });
  });
  it('takes a value starting with "-" written with =, and the last of a repeated flag', () =>
    expect(readOptions(specs, ['--url=-x', '--port', '1', '--port=2'], {})).to.deep.include({
      url: '-x',
      port: 2,
    }));
  it('keeps = inside values', () =>
    expect(readOptions(specs, ['--url=http://x/?a=b'], {}).url).to.equal('http://x/?a=b'));
  const bad: [string[], Record<string, string>, RegExp][] = [
    [['--port', '0'], {}, /--port: must be an integer from 1 to 65535 \(got "0"\)/],
    [[], { X_PORT: 'abc' }, /X_PORT: must be an integer/],
    [['--mode', 'grpc'], {}, /must be one of qinling, http/],
    [['--nope', '1'], {}, /unknown option --nope/],
    [['--port'], {}, /--port needs a value/],
    [['stray'], {}, /unexpected argument "stray"/],
    [['--port', '1', 'x'], {}, /unexpected argument "x"/],
    [['--nope=1'], {}, /unknown option --nope$/],
    [['--port', '-1'], {}, /--port: a value starting with "-" is written --port=<value>/],
    [['--leader-elect', 'maybe'], {}, /must be true or false/],
  ];
  for (const [argv, env, msg] of bad) {
    it(`refuses ${JSON.stringify(argv)} ${JSON.stringify(env)}`, () =>
      expect(() => readOptions(specs, argv, env)).to.throw(OptionError, msg));
  }
});
