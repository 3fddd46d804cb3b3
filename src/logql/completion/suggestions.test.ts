import { getSituation } from './situation';
import { CompletionData, getCompletions, narrowingSelector } from './suggestions';

function fakeData(): CompletionData & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    labelNames: async (selector?: string) => {
      calls.push(`names ${selector ?? ''}`);
      return ['app', 'namespace', 'pod'];
    },
    labelValues: async (name: string, selector?: string) => {
      calls.push(`values ${name} ${selector ?? ''}`);
      return name === 'app' ? ['api', 'web.v2', 'say "hi"'] : ['prod'];
    },
  };
}

async function complete(q: string, data = fakeData()) {
  const offset = q.indexOf('‸');
  return getCompletions(getSituation(q.replace('‸', ''), offset), data);
}

describe('getCompletions', () => {
  it('offers functions and a selector at the start', async () => {
    const got = await complete('‸');
    const labels = got.map((c) => c.label);
    expect(labels).toEqual(expect.arrayContaining(['rate', 'count_over_time', 'sum', 'topk', '{']));
    expect(got.find((c) => c.label === 'rate')?.insertText).toBe('rate($0 [$__auto])');
    expect(got.every((c) => c.kind !== 'label')).toBe(true);
  });

  it('offers unused label names in a selector, narrowed by the others', async () => {
    const data = fakeData();
    const got = await complete('{app="api", ‸}', data);
    expect(got.map((c) => c.label)).toEqual(['namespace', 'pod']);
    expect(got[0]).toMatchObject({ insertText: 'namespace=', triggerSuggest: true });
    expect(data.calls).toEqual(['names {app="api"}']);
  });

  it('offers quoted, escaped values after an operator', async () => {
    const got = await complete('{app=‸}');
    expect(got.map((c) => c.insertText)).toEqual(['"api"', '"web.v2"', '"say \\"hi\\""']);
  });

  it('regex-escapes values for =~ inside quotes', async () => {
    const got = await complete('{app=~"‸"}');
    expect(got.map((c) => c.insertText)).toEqual(['api', 'web\\\\.v2', 'say \\"hi\\"']);
  });

  it('narrows values by the other matchers of the selector', async () => {
    const data = fakeData();
    await complete('{namespace="prod", app="‸"}', data);
    expect(data.calls).toEqual(['values app {namespace="prod"}']);
  });

  it('does not narrow by matchers that select nothing on their own', async () => {
    const data = fakeData();
    await complete('{namespace!="prod", app="‸"}', data);
    expect(data.calls).toEqual(['values app ']);
  });

  it('offers line filters and stages after a selector', async () => {
    const got = await complete('{app="api"} ‸');
    const byLabel = Object.fromEntries(got.map((c) => [c.label, c.insertText]));
    expect(byLabel['|=']).toBe('|= "$0"');
    expect(byLabel.json).toBe('| json');
    expect(byLabel.unwrap).toBeUndefined();
  });

  it('offers stages and label filters after a pipe, unwrap only in range functions', async () => {
    const logs = await complete('{app="api"} | ‸');
    expect(logs.map((c) => c.label)).toEqual(expect.arrayContaining(['json', 'logfmt', 'line_format', 'app']));
    expect(logs.find((c) => c.label === 'json')?.insertText).toBe('json');
    expect(logs.some((c) => c.label === '|=')).toBe(false);
    const metric = await complete('sum_over_time({app="api"} | logfmt | ‸');
    expect(metric.some((c) => c.label === 'unwrap')).toBe(true);
  });

  it('offers durations in a range and labels in a grouping', async () => {
    expect((await complete('rate({a="b"}[‸')).map((c) => c.label)).toContain('$__auto');
    const data = fakeData();
    const grouping = await complete('sum(rate({app="api"}[1m])) by (‸', data);
    expect(grouping.map((c) => c.label)).toEqual(['app', 'namespace', 'pod']);
    expect(data.calls).toEqual(['names {app="api"}']);
  });

  it('offers nothing inside a line filter string', async () => {
    expect(await complete('{app="api"} |= "x‸"')).toEqual([]);
  });
});

describe('narrowingSelector', () => {
  it('skips matchers with variables', () => {
    expect(narrowingSelector([{ name: 'a', op: '=', value: '$x' }])).toBeUndefined();
    expect(narrowingSelector([{ name: 'a', op: '=', value: 'x' }, { name: 'b', op: '=', value: '$y' }])).toBe('{a="x"}');
  });
});
