import { formatVariableValue, applyAdHocFilters } from './interpolate';
import { hasSyntaxError } from './parsing';

describe('formatVariableValue', () => {
  it.each([
    ['single value as typed', 'api', {}, 'api'],
    ['single value keeps regex syntax', 'api-.*', {}, 'api-.*'],
    ['single value escapes quotes and backslashes', 'a"b\\c', {}, 'a\\"b\\\\c'],
    ['multi-value joined with |', ['api', 'web'], { multi: true }, 'api|web'],
    ['multi-value entries regex-escaped', ['a.b', 'c+d'], { multi: true }, 'a\\\\.b|c\\\\+d'],
    ['include-all single string regex-escaped', 'a.b', { includeAll: true }, 'a\\\\.b'],
    ['single-element array of a single-value variable', ['x.y'], {}, 'x.y'],
    ['quotes in multi-value', ['say "hi"'], { multi: true }, 'say \\"hi\\"'],
  ])('%s', (_name, value, variable, want) => {
    expect(formatVariableValue(value as string | string[], variable)).toBe(want);
  });

  it('produces a query that parses and matches literally', () => {
    const expr = `{app=~"${formatVariableValue(['a.b', 'c|d', 'e"f'], { multi: true })}"}`;
    expect(hasSyntaxError(expr)).toBe(false);
    // The LogQL string holds the regex a\.b|c\|d|e"f, which matches only the three values.
    const regex = new RegExp(`^(?:${'a\\.b|c\\|d|e"f'})$`);
    expect(['a.b', 'c|d', 'e"f'].every((v) => regex.test(v))).toBe(true);
    expect(regex.test('axb')).toBe(false);
  });
});

describe('applyAdHocFilters', () => {
  it.each([
    ['indexed label into the selector', '{app="api"} | json', [{ key: 'namespace', operator: '=', value: 'prod' }], ['namespace'], '{app="api", namespace="prod"} | json'],
    ['parsed label as a stage', '{app="api"} | json', [{ key: 'status', operator: '!=', value: '200' }], ['app'], '{app="api"} | json | status!="200"'],
    ['regex kept as a regex', '{app="api"}', [{ key: 'pod', operator: '=~', value: 'api-.*' }], ['pod'], '{app="api", pod=~"api-.*"}'],
    ['numeric comparison', '{app="api"} | logfmt', [{ key: 'duration_ms', operator: '>', value: '100' }], ['app'], '{app="api"} | logfmt | duration_ms>100'],
    ['unknown operator ignored', '{app="api"}', [{ key: 'a', operator: '<>', value: 'b' }], [], '{app="api"}'],
  ])('%s', (_name, expr, filters, indexed, want) => {
    const got = applyAdHocFilters(expr, filters, new Set(indexed));
    expect(got).toBe(want);
    expect(hasSyntaxError(got)).toBe(false);
  });
});
