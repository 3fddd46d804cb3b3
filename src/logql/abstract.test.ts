import { AbstractLabelOperator } from '@grafana/data';

import { exportLabelMatchers, importLabelMatchers, matchesEmpty } from './abstract';

const eq = (name: string, value: string, operator = AbstractLabelOperator.Equal) => ({ name, value, operator });

describe('importLabelMatchers', () => {
  const known = new Set(['namespace', 'app', 'pod', 'level']);
  const mapping = [
    { metricsLabel: 'kubernetes_namespace', logsLabel: 'namespace' },
    { metricsLabel: 'kubernetes_pod_name', logsLabel: 'pod' },
  ];

  it.each([
    ['keeps known labels', [eq('app', 'api')], '{app="api"}', []],
    ['maps metrics labels to logs labels', [eq('kubernetes_namespace', 'prod'), eq('app', 'api')], '{namespace="prod", app="api"}', []],
    ['drops the metric name', [eq('__name__', 'http_requests_total'), eq('app', 'api')], '{app="api"}', ['__name__']],
    ['drops labels Lode does not know', [eq('job', 'node'), eq('instance', 'h:9100'), eq('app', 'api')], '{app="api"}', ['job', 'instance']],
    ['drops a mapped label whose target is unknown too', [eq('kubernetes_container_name', 'x'), eq('app', 'api')], '{app="api"}', ['kubernetes_container_name']],
    ['regex matchers carried over', [eq('kubernetes_pod_name', 'api-.*', AbstractLabelOperator.EqualRegEx)], '{pod=~"api-.*"}', []],
    ['negative matchers carried over next to a selecting one', [eq('app', 'api'), eq('level', 'debug', AbstractLabelOperator.NotEqual), eq('pod', 'x.*', AbstractLabelOperator.NotEqualRegEx)], '{app="api", level!="debug", pod!~"x.*"}', []],
    ['only negative matchers select nothing', [eq('app', 'api', AbstractLabelOperator.NotEqual)], '', []],
    ['a regex that matches empty selects nothing', [eq('app', '.*', AbstractLabelOperator.EqualRegEx)], '', []],
    ['values are escaped', [eq('app', 'a"b\\c')], '{app="a\\"b\\\\c"}', []],
    ['nothing known: empty selector', [eq('job', 'node')], '', ['job']],
  ])('%s', (_name, matchers, want, droppedLabels) => {
    const got = importLabelMatchers(matchers, mapping, known);
    expect(got.selector).toBe(want);
    expect(got.dropped.map((d) => d.label)).toEqual(droppedLabels);
  });

  it('keeps every label when the known labels are not available', () => {
    expect(importLabelMatchers([eq('job', 'node')], []).selector).toBe('{job="node"}');
  });

  it('collapses two metrics labels mapped to the same logs matcher', () => {
    const m = [
      { metricsLabel: 'kubernetes_namespace', logsLabel: 'namespace' },
      { metricsLabel: 'k8s_namespace', logsLabel: 'namespace' },
    ];
    expect(importLabelMatchers([eq('kubernetes_namespace', 'a'), eq('k8s_namespace', 'a')], m, known).selector).toBe('{namespace="a"}');
  });
});

describe('matchesEmpty', () => {
  it.each([
    ['=', '', true],
    ['=', 'a', false],
    ['!=', 'a', true],
    ['!=', '', false],
    ['=~', 'a|', true],
    ['=~', 'a+', false],
    ['!~', 'a+', true],
    ['!~', '.*', false],
  ])('%s %s', (op, value, want) => {
    expect(matchesEmpty(op as never, value)).toBe(want);
  });
});

describe('exportLabelMatchers', () => {
  it('maps logs labels back to metrics labels', () => {
    const got = exportLabelMatchers('{namespace="prod", app=~"api|web"} |= "x"', [{ metricsLabel: 'kubernetes_namespace', logsLabel: 'namespace' }]);
    expect(got).toEqual([
      { name: 'kubernetes_namespace', operator: AbstractLabelOperator.Equal, value: 'prod' },
      { name: 'app', operator: AbstractLabelOperator.EqualRegEx, value: 'api|web' },
    ]);
  });

  it('round-trips through import', () => {
    const mapping = [{ metricsLabel: 'kubernetes_namespace', logsLabel: 'namespace' }];
    const expr = '{namespace="prod", app!="web"}';
    expect(importLabelMatchers(exportLabelMatchers(expr, mapping), mapping).selector).toBe(expr);
  });
});
