import React from 'react';

import { InlineField, InlineFieldRow, Input, RadioButtonGroup } from '@grafana/ui';

import { LodeDirection, LodeQuery, LodeQueryType } from '../../types';

export interface QueryOptionsProps {
  query: LodeQuery;
  onChange: (q: LodeQuery) => void;
  onRunQuery: () => void;
  /** Alert rules: numeric results only, so no live tail, line limit or direction. */
  alerting?: boolean;
  /** The datasource's default line limit, shown as placeholder. */
  defaultMaxLines: number;
  isLogs: boolean;
}

const typeOptions = [
  { label: 'Range', value: LodeQueryType.Range, description: 'Run over the whole time range' },
  { label: 'Instant', value: LodeQueryType.Instant, description: 'Run at the end of the time range (metric queries)' },
  { label: 'Live', value: LodeQueryType.Stream, description: 'Tail new lines as they arrive' },
];

const directionOptions = [
  { label: 'Newest first', value: LodeDirection.Backward },
  { label: 'Oldest first', value: LodeDirection.Forward },
];

/** Query type, line limit, direction, legend and step. */
export function QueryOptions({ query, onChange, onRunQuery, alerting, defaultMaxLines, isLogs }: QueryOptionsProps) {
  const types = alerting ? typeOptions.filter((o) => o.value !== LodeQueryType.Stream) : typeOptions;
  const set = (patch: Partial<LodeQuery>, run = true) => {
    onChange({ ...query, ...patch });
    if (run) {
      onRunQuery();
    }
  };
  const onNumber = (raw: string): number | undefined => {
    const n = parseInt(raw, 10);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  };

  return (
    <InlineFieldRow>
      <InlineField label="Type" tooltip="Range over the time range, instant at its end, or live tail">
        <RadioButtonGroup size="sm" options={types} value={query.queryType ?? LodeQueryType.Range} onChange={(v) => set({ queryType: v })} />
      </InlineField>
      {!alerting && isLogs && (
        <>
          <InlineField label="Line limit" tooltip="Most log lines returned">
            <Input
              type="number"
              width={10}
              min={1}
              aria-label="Line limit"
              placeholder={String(defaultMaxLines)}
              defaultValue={query.maxLines ?? ''}
              onBlur={(e) => set({ maxLines: onNumber(e.currentTarget.value) })}
            />
          </InlineField>
          <InlineField label="Direction">
            <RadioButtonGroup size="sm" options={directionOptions} value={query.direction ?? LodeDirection.Backward} onChange={(v) => set({ direction: v })} />
          </InlineField>
        </>
      )}
      {!isLogs && (
        <>
          <InlineField label="Legend" tooltip="Series name, e.g. {{app}} {{level}}">
            <Input
              width={20}
              aria-label="Legend"
              placeholder="{{label}}"
              defaultValue={query.legendFormat ?? ''}
              onBlur={(e) => set({ legendFormat: e.currentTarget.value || undefined })}
            />
          </InlineField>
          <InlineField label="Step" tooltip="Resolution of a range query: a duration such as 30s, or $__auto (the default)">
            <Input
              width={10}
              aria-label="Step"
              placeholder="auto"
              defaultValue={query.step ?? ''}
              onBlur={(e) => set({ step: e.currentTarget.value.trim() || undefined })}
            />
          </InlineField>
        </>
      )}
    </InlineFieldRow>
  );
}
