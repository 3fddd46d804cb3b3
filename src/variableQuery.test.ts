import { normalizeVariableQuery, parseLegacyVariableQuery, runVariableQuery } from './variableQuery';

describe('parseLegacyVariableQuery', () => {
  it.each([
    ['label_names()', { type: 'labelNames' }],
    ['label_values(app)', { type: 'labelValues', label: 'app', stream: undefined }],
    ['label_values({namespace="$ns", app=~"a|b"}, pod)', { type: 'labelValues', label: 'pod', stream: '{namespace="$ns", app=~"a|b"}' }],
    [' label_values( app ) ', { type: 'labelValues', label: 'app', stream: undefined }],
  ])('%s', (text, want) => {
    expect(parseLegacyVariableQuery(text)).toEqual({ refId: 'LodeVariableQuery', ...want });
  });

  it.each(['', 'label_values()', 'up{job="x"}', 'label_values(a-b)'])('rejects %s', (text) => {
    expect(parseLegacyVariableQuery(text)).toBeUndefined();
  });
});

describe('runVariableQuery', () => {
  const src = {
    labelNames: jest.fn(async () => ['__stream_shard__', 'app', 'namespace']),
    labelValues: jest.fn(async () => ['api', 'web']),
  };

  it('lists label names without internal ones', async () => {
    expect(await runVariableQuery(src, { refId: 'A', type: 'labelNames' })).toEqual([{ text: 'app' }, { text: 'namespace' }]);
  });

  it('lists values narrowed by an interpolated selector', async () => {
    const got = await runVariableQuery(src, { refId: 'A', type: 'labelValues', label: 'app', stream: '{namespace="$ns"}' }, (s) => s.replace('$ns', 'prod'));
    expect(got).toEqual([{ text: 'api' }, { text: 'web' }]);
    expect(src.labelValues).toHaveBeenCalledWith('app', '{namespace="prod"}');
  });

  it('has nothing without a label', async () => {
    expect(await runVariableQuery(src, { refId: 'A', type: 'labelValues' })).toEqual([]);
  });
});

describe('normalizeVariableQuery', () => {
  it.each([
    ['a Loki query string', 'label_values({a="b"}, app)', { type: 'labelValues', label: 'app', stream: '{a="b"}' }],
    ['an unreadable string', 'up', { type: 'labelNames' }],
    ['a Lode query', { refId: 'V', type: 'labelValues', label: 'pod' }, { refId: 'V', type: 'labelValues', label: 'pod' }],
    ['an object without type but a label', { label: 'pod' }, { type: 'labelValues', label: 'pod' }],
    ['nothing', undefined, { type: 'labelNames' }],
  ])('%s', (_name, q, want) => {
    expect(normalizeVariableQuery(q)).toEqual({ refId: 'LodeVariableQuery', ...want });
  });
});
