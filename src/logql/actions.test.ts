import { FieldType, createDataFrame } from '@grafana/data';

import { exprHasFilter, labelKind, modifyExpr, queryHints, toggleFilterExpr } from './actions';

function logsFrame(lines: string[], labels: Array<Record<string, string>> = [], labelTypes?: Array<Record<string, string>>) {
  const fields = [
    { name: 'labels', type: FieldType.other, values: lines.map((_, i) => labels[i] ?? { app: 'api' }) },
    { name: 'timestamp', type: FieldType.time, values: lines.map((_, i) => 1000 + i) },
    { name: 'body', type: FieldType.string, values: lines },
  ];
  if (labelTypes) {
    fields.push({ name: 'labelTypes', type: FieldType.other, values: labelTypes });
  }
  return createDataFrame({ fields });
}

describe('modifyExpr', () => {
  it('adds a filter in the selector for an indexed label of the row', () => {
    const frame = logsFrame(['x'], [{ app: 'api', ns: 'prod' }], [{ app: 'I', ns: 'I' }]);
    expect(modifyExpr('{app="api"} | json', { type: 'ADD_FILTER', options: { key: 'ns', value: 'prod' }, frame })).toBe('{app="api", ns="prod"} | json');
  });

  it('adds a stage for a parsed label of the row', () => {
    const frame = logsFrame(['x'], [{ app: 'api', status: '500' }], [{ app: 'I', status: 'P' }]);
    expect(modifyExpr('{app="api"} | json', { type: 'ADD_FILTER_OUT', options: { key: 'status', value: '500' }, frame })).toBe('{app="api"} | json | status!="500"');
  });

  it.each([
    ['ADD_STRING_FILTER', '{app="api"} |= "timeout"'],
    ['ADD_STRING_FILTER_OUT', '{app="api"} != "timeout"'],
    ['ADD_JSON_PARSER', '{app="api"} | json'],
    ['ADD_LOGFMT_PARSER', '{app="api"} | logfmt'],
    ['UNKNOWN', '{app="api"}'],
  ])('%s', (type, want) => {
    expect(modifyExpr('{app="api"}', { type, options: { value: 'timeout' } })).toBe(want);
  });
});

describe('toggleFilterExpr', () => {
  it('toggles filter for and filter out', () => {
    const frame = logsFrame(['x'], [{ app: 'api', level: 'error' }], [{ app: 'I', level: 'S' }]);
    const on = toggleFilterExpr('{app="api"}', { type: 'FILTER_FOR', options: { key: 'level', value: 'error' }, frame });
    expect(on).toBe('{app="api"} | level="error"');
    expect(exprHasFilter(on, 'level', 'error')).toBe(true);
    const out = toggleFilterExpr(on, { type: 'FILTER_OUT', options: { key: 'level', value: 'error' }, frame });
    expect(out).toBe('{app="api"} | level!="error"');
    expect(exprHasFilter(out, 'level', 'error', true)).toBe(true);
    expect(toggleFilterExpr(out, { type: 'FILTER_OUT', options: { key: 'level', value: 'error' }, frame })).toBe('{app="api"}');
  });
});

describe('labelKind', () => {
  it('reads the label types of the row', () => {
    const frame = logsFrame(['x', 'y'], [], [{ a: 'I' }, { a: 'P', b: 'S' }]);
    expect(labelKind('a', frame, 0)).toBe('indexed');
    expect(labelKind('a', frame, 1)).toBe('parsed');
    expect(labelKind('b', frame, 1)).toBe('structured');
    expect(labelKind('a', logsFrame(['x']))).toBe('indexed');
    expect(labelKind('a')).toBe('unknown');
  });
});

describe('queryHints', () => {
  it('suggests a json parser for JSON lines', () => {
    const hints = queryHints('{app="api"}', [logsFrame(['{"a":1}', '{"level":"info"}', 'plain'])]);
    expect(hints.map((h) => h.type)).toEqual(['ADD_JSON_PARSER']);
    expect(hints[0].fix?.action?.type).toBe('ADD_JSON_PARSER');
  });

  it('suggests a logfmt parser for logfmt lines', () => {
    expect(queryHints('{app="api"}', [logsFrame(['level=info msg="started server" port=80', 'a=1 b=2'])]).map((h) => h.type)).toEqual(['ADD_LOGFMT_PARSER']);
  });

  it('suggests dropping parse errors', () => {
    const frame = logsFrame(['x'], [{ app: 'api', __error__: 'JSONParserErr' }]);
    expect(queryHints('{app="api"} | json', [frame]).map((h) => h.type)).toEqual(['ADD_NO_PIPELINE_ERROR']);
    expect(queryHints('{app="api"} | json | __error__=""', [frame])).toEqual([]);
  });

  it('has no hint for plain lines or metric queries', () => {
    expect(queryHints('{app="api"}', [logsFrame(['GET / 200', 'GET /x 404'])])).toEqual([]);
    expect(queryHints('rate({app="api"}[1m])', [logsFrame(['{"a":1}'])])).toEqual([]);
  });
});
