import React, { useEffect, useState } from 'react';

import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { Combobox, ComboboxOption, InlineField, InlineFieldRow, Input, RadioButtonGroup } from '@grafana/ui';

import type { LodeDatasource } from '../../datasource';
import { LodeOptions, LodeQuery, LodeVariableQuery } from '../../types';
import { normalizeVariableQuery } from '../../variableQuery';

export type VariableQueryEditorProps = QueryEditorProps<LodeDatasource, LodeQuery, LodeOptions, LodeVariableQuery>;

const typeOptions: Array<SelectableValue<LodeVariableQuery['type']>> = [
  { label: 'Label names', value: 'labelNames' },
  { label: 'Label values', value: 'labelValues' },
];

/** Template variable editor: label names, or the values of a label (optionally narrowed by a selector). */
export function VariableQueryEditor({ datasource, query, onChange, range }: VariableQueryEditorProps) {
  const q = normalizeVariableQuery(query);
  const [labels, setLabels] = useState<Array<ComboboxOption<string>>>([]);

  useEffect(() => {
    datasource.resources.setRange(range);
    datasource.resources.labelNames().then(
      (names) => setLabels(names.map((n) => ({ label: n, value: n }))),
      () => setLabels([])
    );
  }, [datasource, range]);

  const set = (patch: Partial<LodeVariableQuery>) => onChange({ ...q, ...patch });

  return (
    <InlineFieldRow>
      <InlineField label="Query type" labelWidth={14}>
        <RadioButtonGroup options={typeOptions} value={q.type} onChange={(type) => set({ type })} />
      </InlineField>
      {q.type === 'labelValues' && (
        <InlineField label="Label" labelWidth={10}>
          <Combobox
            id="lode-variable-label"
            width={25}
            options={labels}
            value={q.label ?? null}
            createCustomValue={true}
            placeholder="Choose a label"
            onChange={(o) => set({ label: o?.value })}
          />
        </InlineField>
      )}
      <InlineField label="Stream selector" labelWidth={18} tooltip='Optional, e.g. {namespace="$namespace"}: only streams it matches count'>
        <Input
          id="lode-variable-stream"
          width={40}
          defaultValue={q.stream ?? ''}
          placeholder='{namespace="$namespace"}'
          onBlur={(e) => set({ stream: e.currentTarget.value.trim() || undefined })}
        />
      </InlineField>
    </InlineFieldRow>
  );
}
