import { escapeRegex, escapeString, matcherValueText, quote, unquote } from './escape';

describe('escaping', () => {
  it.each([
    ['plain', 'api', '"api"'],
    ['quote and backslash', 'a"b\\c', '"a\\"b\\\\c"'],
    ['control characters', 'a\nb\tc', '"a\\nb\\tc"'],
  ])('quotes %s and reads it back', (_name, value, literal) => {
    expect(quote(value)).toBe(literal);
    expect(unquote(literal)).toBe(value);
  });

  it('reads raw strings as they are', () => {
    expect(unquote('`a\\b"c`')).toBe('a\\b"c');
  });

  it('escapes regex metacharacters so that the value matches only itself', () => {
    const v = 'a.b*(c)|[d]{2}^$+?\\';
    expect(new RegExp(`^${escapeRegex(v)}$`).test(v)).toBe(true);
    expect(new RegExp(`^${escapeRegex('a.b')}$`).test('axb')).toBe(false);
  });

  it('escapes matcher values for their operator', () => {
    expect(matcherValueText('=', 'a.b')).toBe('a.b');
    expect(matcherValueText('=~', 'a.b')).toBe('a\\\\.b');
    expect(escapeString('x')).toBe('x');
  });
});
