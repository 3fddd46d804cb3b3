import { of } from 'rxjs';

import {
  AbstractLabelOperator,
  CoreApp,
  DataQueryRequest,
  DataSourceInstanceSettings,
  FieldType,
  LogRowContextQueryDirection,
  LogRowModel,
  SupplementaryQueryType,
  createDataFrame,
  dateTime,
} from '@grafana/data';
import { BackendSrv, TemplateSrv, setBackendSrv } from '@grafana/runtime';

import { LodeDatasource } from './datasource';
import { LodeOptions, LodeQuery, LodeQueryType } from './types';

const settings = {
  id: 1,
  uid: 'lode-uid',
  type: 'lode-logs-datasource',
  name: 'Lode',
  access: 'proxy',
  readOnly: false,
  meta: { id: 'lode-logs-datasource' },
  jsonData: { labelMapping: [{ metricsLabel: 'kubernetes_namespace', logsLabel: 'namespace' }], contextLines: 20, maxLines: 300 },
} as unknown as DataSourceInstanceSettings<LodeOptions>;

// A template service with $app (multi-value) and $ns (single value).
const templateSrv = {
  replace: (text: string | undefined, _vars: unknown, format?: (v: string | string[], variable: unknown) => string) => {
    const fmt = format ?? ((v: string | string[]) => String(v));
    return (text ?? '').replace(/\$app\b/g, fmt(['api', 'web.v2'], { multi: true })).replace(/\$ns\b/g, fmt('prod', {}));
  },
} as unknown as TemplateSrv;

let fetched: Array<{ url: string; data: { queries: Array<Record<string, unknown>>; from: string; to: string } }>;
let resources: Record<string, unknown>;

beforeEach(() => {
  fetched = [];
  resources = { labels: { data: ['namespace', 'app', 'level'] } };
  setBackendSrv({
    fetch: (opts: { url: string; method: string; data: never }) => {
      if (opts.method === 'GET') {
        return of({ data: resources[opts.url.replace(/^.*\/resources\//, '')], status: 200, ok: true });
      }
      fetched.push(opts);
      return of({ data: { results: {} }, status: 200, ok: true });
    },
  } as unknown as BackendSrv);
});

function ds() {
  return new LodeDatasource(settings, templateSrv);
}

function request(targets: LodeQuery[], patch: Partial<DataQueryRequest<LodeQuery>> = {}): DataQueryRequest<LodeQuery> {
  return {
    app: CoreApp.Explore,
    requestId: 'r1',
    interval: '1s',
    intervalMs: 1000,
    range: { from: dateTime(1000), to: dateTime(2000), raw: { from: 'now-1h', to: 'now' } },
    scopedVars: {},
    targets,
    timezone: 'UTC',
    startTime: 0,
    ...patch,
  };
}

describe('LodeDatasource', () => {
  it('interpolates variables with LogQL escaping and applies ad hoc filters', () => {
    const q = ds().applyTemplateVariables({ refId: 'A', expr: '{app=~"$app", ns="$ns"} | json' }, {}, [{ key: 'status', operator: '=', value: '500' }]);
    expect(q.expr).toBe('{app=~"api|web\\\\.v2", ns="prod"} | json | status="500"');
  });

  it('skips empty and hidden queries', () => {
    const d = ds();
    expect(d.filterQuery({ refId: 'A', expr: '  ' })).toBe(false);
    expect(d.filterQuery({ refId: 'A', expr: '{a="b"}', hide: true })).toBe(false);
    expect(d.filterQuery({ refId: 'A', expr: '{a="b"}' })).toBe(true);
  });

  it('sends queries to the backend, as live tails in live mode', async () => {
    await new Promise((resolve) => ds().query(request([{ refId: 'A', expr: '{a="b"}' }, { refId: 'B', expr: '' }], { liveStreaming: true })).subscribe({ complete: () => resolve(undefined) }));
    expect(fetched).toHaveLength(1);
    expect(fetched[0].url).toBe('/api/ds/query?ds_type=lode-logs-datasource&requestId=r1');
    expect(fetched[0].data.queries).toEqual([expect.objectContaining({ refId: 'A', expr: '{a="b"}', queryType: 'stream' })]);
  });

  it('asks for the context of a row with its stream labels', async () => {
    const row = {
      rowIndex: 0,
      uid: 'row1',
      timeEpochMs: 1_700_000_000_000,
      labels: { app: 'api', namespace: 'prod', status: '500' },
      dataFrame: createDataFrame({ fields: [{ name: 'labelTypes', type: FieldType.other, values: [{ app: 'I', namespace: 'I', status: 'P' }] }] }),
    } as unknown as LogRowModel;
    await ds().getLogRowContext(row, { direction: LogRowContextQueryDirection.Forward, limit: 5 });
    expect(fetched[0].data.queries[0]).toMatchObject({ expr: '{app="api", namespace="prod"}', maxLines: 20, direction: 'forward' });
    expect(fetched[0].data.from).toBe('1700000000000');
    const q = await ds().getLogRowContextQuery(row, { limit: 50 });
    expect(q).toMatchObject({ expr: '{app="api", namespace="prod"}', maxLines: 50, direction: 'backward' });
  });

  it('builds the supplementary requests Explore runs', () => {
    const req = request([
      { refId: 'A', expr: '{app="api"} |= "error"' },
      { refId: 'B', expr: 'rate({app="api"}[1m])' },
    ]);
    const volume = ds().getSupplementaryRequest(SupplementaryQueryType.LogsVolume, req)!;
    expect(volume.targets.map((t) => [t.refId, t.supportingQueryType])).toEqual([['log-volume-A', 'logsVolume']]);
    expect(volume.requestId).toBe('r1_LogsVolume');
    const sample = ds().getSupplementaryRequest(SupplementaryQueryType.LogsSample, req, { type: SupplementaryQueryType.LogsSample, limit: 10 })!;
    expect(sample.targets).toEqual([expect.objectContaining({ refId: 'log-sample-B', expr: '{app="api"}', maxLines: 10 })]);
    expect(ds().getSupportedSupplementaryQueryTypes()).toEqual([SupplementaryQueryType.LogsVolume, SupplementaryQueryType.LogsSample]);
  });

  it('imports a Prometheus query with the label mapping, keeping only labels Lode has', async () => {
    const got = await ds().importFromAbstractQueries([
      {
        refId: 'A',
        labelMatchers: [
          { name: '__name__', operator: AbstractLabelOperator.Equal, value: 'http_requests_total' },
          { name: 'kubernetes_namespace', operator: AbstractLabelOperator.Equal, value: 'prod' },
          { name: 'job', operator: AbstractLabelOperator.Equal, value: 'api' },
          { name: 'app', operator: AbstractLabelOperator.EqualRegEx, value: 'api|web' },
        ],
      },
    ]);
    expect(got).toEqual([{ refId: 'A', expr: '{namespace="prod", app=~"api|web"}', queryType: LodeQueryType.Range }]);
    const back = await ds().exportToAbstractQueries(got);
    expect(back[0].labelMatchers[0]).toEqual({ name: 'kubernetes_namespace', operator: AbstractLabelOperator.Equal, value: 'prod' });
  });

  it('toggles filters from log details', () => {
    const d = ds();
    const on = d.toggleQueryFilter({ refId: 'A', expr: '{app="api"} | json' }, { type: 'FILTER_FOR', options: { key: 'status', value: '500' } });
    expect(on.expr).toBe('{app="api"} | json | status="500"');
    expect(d.queryHasFilter(on, { key: 'status', value: '500' })).toBe(true);
    expect(d.modifyQuery(on, { type: 'ADD_STRING_FILTER', options: { value: 'timeout' } }).expr).toBe('{app="api"} |= "timeout" | json | status="500"');
  });

  it('names label types for log details', () => {
    const frame = createDataFrame({ fields: [{ name: 'labelTypes', type: FieldType.other, values: [{ a: 'I', b: 'S', c: 'P' }] }] });
    expect(['a', 'b', 'c', 'd'].map((k) => ds().getLabelDisplayTypeFromFrame(k, frame, 0))).toEqual(['Indexed label', 'Structured metadata', 'Parsed label', null]);
  });

  it('answers legacy variable queries', async () => {
    resources['label/app/values'] = { data: ['web', 'api'] };
    expect(await ds().metricFindQuery('label_values(app)')).toEqual([{ text: 'api' }, { text: 'web' }]);
    expect(await ds().metricFindQuery('label_names()')).toEqual([{ text: 'app' }, { text: 'level' }, { text: 'namespace' }]);
    expect(await ds().metricFindQuery('nonsense')).toEqual([]);
  });
});
