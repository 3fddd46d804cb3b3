import { addLabelFilter, addLineFilter, addNoPipelineErrors, addParser, hasLabelFilter, removeLabelFilter, selectorFromLabels, toggleLabelFilter } from './modify';
import { hasSyntaxError } from './parsing';

describe('addLabelFilter', () => {
  it.each([
    ['indexed label goes into the selector', '{app="api"}', 'ns', 'prod', '=', 'indexed', '{app="api", ns="prod"}'],
    ['unknown label, no parser: selector', '{app="api"} |= "err"', 'ns', 'prod', '=', 'unknown', '{app="api", ns="prod"} |= "err"'],
    ['unknown label with parser: after the parser', '{app="api"} | json | line_format "{{.msg}}"', 'status', '500', '=', 'unknown', '{app="api"} | json | status="500" | line_format "{{.msg}}"'],
    ['parsed label after the last parser and filter', '{app="api"} | logfmt | level="error" | line_format "x"', 'status', '500', '!=', 'parsed', '{app="api"} | logfmt | level="error" | status!="500" | line_format "x"'],
    ['parsed label without parser: at the end', '{app="api"} |= "x"', 'trace', 'abc', '=', 'structured', '{app="api"} |= "x" | trace="abc"'],
    ['every selector of a metric query', 'sum(rate({a="b"}[5m])) / sum(rate({c="d"} | json [5m]))', 'ns', 'x', '=', 'indexed', 'sum(rate({a="b", ns="x"}[5m])) / sum(rate({c="d", ns="x"} | json [5m]))'],
    ['parsed label in a range before the range', 'count_over_time({a="b"} | json [5m])', 'level', 'info', '=', 'parsed', 'count_over_time({a="b"} | json | level="info" [5m])'],
    ['parsed label in a range without pipeline', 'count_over_time({a="b"}[5m])', 'level', 'info', '=', 'parsed', 'count_over_time({a="b"} | level="info"[5m])'],
    ['value escaped', '{app="api"}', 'path', 'C:\\x"y', '=', 'indexed', '{app="api", path="C:\\\\x\\"y"}'],
    ['regex value is regex-escaped', '{app="api"}', 'path', '/a.b', '=~', 'indexed', '{app="api", path=~"/a\\\\.b"}'],
    ['numeric comparison is a stage', '{app="api"} | json', 'status', '400', '>=', 'unknown', '{app="api"} | json | status>=400'],
    ['already present: unchanged', '{app="api", ns="prod"}', 'ns', 'prod', '=', 'indexed', '{app="api", ns="prod"}'],
  ])('%s', (_name, expr, key, value, op, kind, want) => {
    const got = addLabelFilter(expr, key, value, op as never, kind as never);
    expect(got).toBe(want);
    expect(hasSyntaxError(got)).toBe(false);
  });

  it('leaves a query without selector alone', () => {
    expect(addLabelFilter('vector(1)', 'a', 'b')).toBe('vector(1)');
  });
});

describe('removeLabelFilter', () => {
  it.each([
    ['from a selector, last matcher', '{app="api", ns="prod"}', 'ns', 'prod', '=', '{app="api"}'],
    ['from a selector, first matcher', '{ns="prod", app="api"} |= "x"', 'ns', 'prod', '=', '{app="api"} |= "x"'],
    ['never empties a selector', '{ns="prod"}', 'ns', 'prod', '=', '{ns="prod"}'],
    ['a whole stage', '{app="api"} | json | status="500" | line_format "x"', 'status', '500', '=', '{app="api"} | json | line_format "x"'],
    ['one matcher of an and-stage', '{app="api"} | json | status="500" and level="error"', 'status', '500', '=', '{app="api"} | json | level="error"'],
    ['the second matcher of a comma stage', '{app="api"} | json | level="error", status!="500"', 'status', '500', '!=', '{app="api"} | json | level="error"'],
    ['only the matching operator', '{app="api"} | json | status!="500"', 'status', '500', '=', '{app="api"} | json | status!="500"'],
    ['in every range', 'sum(count_over_time({a="b", c="d"}[1m])) + sum(count_over_time({c="d", a="b"}[1m]))', 'c', 'd', '=', 'sum(count_over_time({a="b"}[1m])) + sum(count_over_time({a="b"}[1m]))'],
  ])('%s', (_name, expr, key, value, op, want) => {
    const got = removeLabelFilter(expr, key, value, op as never);
    expect(got).toBe(want);
    expect(hasSyntaxError(got)).toBe(false);
  });
});

describe('toggleLabelFilter', () => {
  it('adds, then removes a filter for a value', () => {
    const on = toggleLabelFilter('{app="api"} | logfmt', 'level', 'error', false);
    expect(on).toBe('{app="api"} | logfmt | level="error"');
    expect(hasLabelFilter(on, 'level', 'error')).toBe(true);
    expect(toggleLabelFilter(on, 'level', 'error', false)).toBe('{app="api"} | logfmt');
  });

  it('replaces the opposite filter', () => {
    expect(toggleLabelFilter('{app="api", ns="prod"}', 'ns', 'prod', true, 'indexed')).toBe('{app="api", ns!="prod"}');
    expect(toggleLabelFilter('{app="api", ns!="prod"}', 'ns', 'prod', false, 'indexed')).toBe('{app="api", ns="prod"}');
  });
});

describe('line filters and parsers', () => {
  it.each([
    ['after the selector', '{app="api"} | json', 'timeout', false, '{app="api"} |= "timeout" | json'],
    ['after existing line filters', '{app="api"} |= "a" != "b" | logfmt', 'c', true, '{app="api"} |= "a" != "b" != "c" | logfmt'],
    ['quotes escaped', '{app="api"}', 'say "hi"', false, '{app="api"} |= "say \\"hi\\""'],
    ['inside a metric query', 'rate({app="api"}[5m])', 'x', false, 'rate({app="api"} |= "x"[5m])'],
  ])('%s', (_name, expr, value, out, want) => {
    const got = addLineFilter(expr, value, out);
    expect(got).toBe(want);
    expect(hasSyntaxError(got)).toBe(false);
  });

  it('adds a parser after line filters and drops pipeline errors', () => {
    const withParser = addParser('{app="api"} |= "x" | line_format "{{.a}}"', 'json');
    expect(withParser).toBe('{app="api"} |= "x" | json | line_format "{{.a}}"');
    expect(addNoPipelineErrors(withParser)).toBe('{app="api"} |= "x" | json | __error__="" | line_format "{{.a}}"');
  });
});

describe('selectorFromLabels', () => {
  it('sorts and escapes', () => {
    expect(selectorFromLabels({ b: 'x"y', a: '1' })).toBe('{a="1", b="x\\"y"}');
  });
});
