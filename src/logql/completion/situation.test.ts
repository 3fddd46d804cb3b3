import { getSituation } from './situation';

// The cursor is where | stands in the query text.
function at(q: string) {
  const offset = q.indexOf('‸');
  return getSituation(q.replace('‸', ''), offset);
}

describe('getSituation', () => {
  it.each([
    ['empty query', '‸', { type: 'EXPRESSION' }],
    ['typing a function name', 'cou‸', { type: 'EXPRESSION' }],
    ['function argument', 'sum(‸', { type: 'EXPRESSION' }],
    ['after a binary operator', 'sum(rate({a="b"}[1m])) / ‸', { type: 'EXPRESSION' }],
    ['empty selector', '{‸}', { type: 'LABEL_NAME', otherLabels: [] }],
    ['second label name', '{app="api", ‸}', { type: 'LABEL_NAME', otherLabels: [{ name: 'app', op: '=', value: 'api' }] }],
    ['label name with the rest of the selector', '{‸, app="api"}', { type: 'LABEL_NAME', otherLabels: [{ name: 'app', op: '=', value: 'api' }] }],
    ['partial label name', '{app="api", nam‸', { type: 'LABEL_NAME', otherLabels: [{ name: 'app', op: '=', value: 'api' }] }],
    ['value without quote', '{app=‸}', { type: 'LABEL_VALUE', labelName: 'app', op: '=', inQuotes: false, otherLabels: [] }],
    ['value in quotes', '{ns="prod", app=~"ap‸"}', { type: 'LABEL_VALUE', labelName: 'app', op: '=~', inQuotes: true, otherLabels: [{ name: 'ns', op: '=', value: 'prod' }] }],
    ['value inside a metric query', 'rate({app!="‸', { type: 'LABEL_VALUE', labelName: 'app', op: '!=', inQuotes: true, otherLabels: [] }],
    ['after a selector', '{app="api"} ‸', { type: 'AFTER_SELECTOR', selector: '{app="api"}', afterPipe: false, inRangeFunction: false }],
    ['after a pipe', '{app="api"} |= "x" | ‸', { type: 'AFTER_SELECTOR', selector: '{app="api"}', afterPipe: true, inRangeFunction: false }],
    ['typing a stage', '{app="api"} | js‸', { type: 'AFTER_SELECTOR', selector: '{app="api"}', afterPipe: true, inRangeFunction: false }],
    ['after a stage with a brace in its string', '{app="api"} | line_format "{{.msg}}" ‸', { type: 'AFTER_SELECTOR', selector: '{app="api"}', afterPipe: false, inRangeFunction: false }],
    ['pipe inside a range function', 'sum_over_time({app="api"} | logfmt | ‸', { type: 'AFTER_SELECTOR', selector: '{app="api"}', afterPipe: true, inRangeFunction: true }],
    ['inside a line filter string', '{app="api"} |= "err‸', { type: 'NONE' }],
    ['range', 'rate({app="api"}[‸', { type: 'RANGE' }],
    ['grouping', 'sum by (‸) (rate({app="api"}[1m]))', { type: 'GROUPING', selector: '' }],
    ['grouping after the inner query', 'sum(rate({app="api"}[1m])) by (lev‸', { type: 'GROUPING', selector: '{app="api"}' }],
    ['unwrap', 'avg_over_time({app="api"} | logfmt | unwrap ‸', { type: 'UNWRAP', selector: '{app="api"}' }],
    ['after a word in a stage', '{app="api"} | json l‸', { type: 'NONE' }],
  ])('%s', (_name, q, want) => {
    expect(at(q)).toEqual(want);
  });
});
