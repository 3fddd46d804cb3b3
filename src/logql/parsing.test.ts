import { hasSyntaxError, innerLogQuery, isLogsQuery, isMetricQuery, logExpressions, parsersOf, selectors } from './parsing';

describe('parsing', () => {
  it('tells log queries from metric queries', () => {
    expect(isLogsQuery('{app="api"} |= "x"')).toBe(true);
    expect(isLogsQuery('sum(rate({app="api"}[1m]))')).toBe(false);
    expect(isMetricQuery('sum(rate({app="api"}[1m]))')).toBe(true);
    expect(isMetricQuery('{app="api"}')).toBe(false);
  });

  it('finds every selector with its matchers and positions', () => {
    const q = 'sum(rate({a="b", c=~"d|e"}[1m])) / sum(rate({f!="g\\"h"}[1m]))';
    const sels = selectors(q);
    expect(sels.map((s) => s.matchers.map((m) => [m.name, m.op, m.value]))).toEqual([
      [
        ['a', '=', 'b'],
        ['c', '=~', 'd|e'],
      ],
      [['f', '!=', 'g"h']],
    ]);
    expect(q.slice(sels[1].from, sels[1].to)).toBe('{f!="g\\"h"}');
  });

  it('classifies pipeline stages', () => {
    const [le] = logExpressions('{a="b"} |= "x" | json | status>=500 | line_format "{{.msg}}" | drop c');
    expect(le.stages.map((s) => s.kind)).toEqual(['lineFilter', 'parser', 'labelFilter', 'format', 'other']);
    expect(le.stages[2].simple).toBe(false);
  });

  it('extracts the log query of a metric query and its parsers', () => {
    expect(innerLogQuery('sum by (x) (count_over_time({a="b"} | logfmt | x!="" [5m]))')).toBe('{a="b"} | logfmt | x!=""');
    expect(parsersOf('{a="b"} | json | pattern "<x>"')).toEqual(['json', 'pattern']);
  });

  it('reports syntax errors', () => {
    expect(hasSyntaxError('{a="b"')).toBe(true);
    expect(hasSyntaxError('{a="b"} | json')).toBe(false);
  });
});
