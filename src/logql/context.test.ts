import { FieldType, LogRowContextQueryDirection, LogRowModel, createDataFrame } from '@grafana/data';

import { contextPlan, streamLabels } from './context';

function row(labels: Record<string, string>, labelTypes?: Record<string, string>): LogRowModel {
  const fields = [
    { name: 'labels', type: FieldType.other, values: [labels] },
    { name: 'timestamp', type: FieldType.time, values: [1700000000123] },
    { name: 'body', type: FieldType.string, values: ['GET /api 200'] },
  ];
  if (labelTypes) {
    fields.push({ name: 'labelTypes', type: FieldType.other, values: [labelTypes] });
  }
  return {
    rowIndex: 0,
    entryFieldIndex: 2,
    dataFrame: createDataFrame({ fields }),
    entry: 'GET /api 200',
    raw: 'GET /api 200',
    labels,
    timeEpochMs: 1700000000123,
    timeEpochNs: '1700000000123456789',
    uid: 'r1',
  } as unknown as LogRowModel;
}

describe('streamLabels', () => {
  it('keeps only indexed labels when the frame says', () => {
    const r = row({ app: 'api', ns: 'prod', trace_id: 'abc', status: '200' }, { app: 'I', ns: 'I', trace_id: 'S', status: 'P' });
    expect(streamLabels(r)).toEqual({ app: 'api', ns: 'prod' });
  });

  it('takes every label without label types', () => {
    expect(streamLabels(row({ app: 'api', ns: 'prod' }))).toEqual({ app: 'api', ns: 'prod' });
  });
});

describe('contextPlan', () => {
  const r = row({ ns: 'prod', app: 'api', status: '500' }, { app: 'I', ns: 'I', status: 'P' });

  it('looks backward from the row for the lines before it', () => {
    const p = contextPlan(r, LogRowContextQueryDirection.Backward, 10)!;
    expect(p.query).toMatchObject({ expr: '{app="api", ns="prod"}', maxLines: 10, direction: 'backward', queryType: 'range', refId: 'log-context-before' });
    expect(p.to).toBe(1700000000124);
    expect(p.from).toBe(1700000000124 - 2 * 3600 * 1000 - 1);
  });

  it('looks forward from the row for the lines after it', () => {
    const p = contextPlan(r, LogRowContextQueryDirection.Forward, 25, 60000)!;
    expect(p.query).toMatchObject({ expr: '{app="api", ns="prod"}', maxLines: 25, direction: 'forward', refId: 'log-context-after' });
    expect([p.from, p.to]).toEqual([1700000000123, 1700000060123]);
  });

  it('has no plan for a row without stream labels', () => {
    expect(contextPlan(row({}), LogRowContextQueryDirection.Backward, 10)).toBeUndefined();
  });
});
