import { logsSampleQuery, logsVolumeQuery } from './supplementary';
import { LodeQueryType, SupportingQueryType } from '../types';

describe('logsVolumeQuery', () => {
  it('marks a log query as logs volume, keeping its filters', () => {
    const q = logsVolumeQuery({ refId: 'A', expr: '{app="api"} |= "error" | json | status>=500', maxLines: 50, queryType: LodeQueryType.Range });
    expect(q).toEqual({
      refId: 'log-volume-A',
      datasource: undefined,
      expr: '{app="api"} |= "error" | json | status>=500',
      queryType: LodeQueryType.Range,
      supportingQueryType: SupportingQueryType.LogsVolume,
    });
  });

  it.each([
    ['metric query', 'rate({app="api"}[5m])', LodeQueryType.Range],
    ['empty query', '  ', LodeQueryType.Range],
    ['live query', '{app="api"}', LodeQueryType.Stream],
    ['broken query', '{app="api"', LodeQueryType.Range],
  ])('has none for a %s', (_name, expr, queryType) => {
    expect(logsVolumeQuery({ refId: 'A', expr, queryType })).toBeUndefined();
  });
});

describe('logsSampleQuery', () => {
  it('takes the log expression of a metric query', () => {
    const q = logsSampleQuery({ refId: 'B', expr: 'sum by (status) (rate({app="api"} |= "GET" | logfmt [5m]))' }, 20);
    expect(q).toMatchObject({ refId: 'log-sample-B', expr: '{app="api"} |= "GET" | logfmt', maxLines: 20, supportingQueryType: SupportingQueryType.LogsSample });
  });

  it('has none for a log query', () => {
    expect(logsSampleQuery({ refId: 'B', expr: '{app="api"}' })).toBeUndefined();
  });
});
