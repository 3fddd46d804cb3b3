import React from 'react';

import { DataSourcePicker } from '@grafana/runtime';
import { Button, Field, IconButton, InlineSwitch, Input, RadioButtonGroup, Stack } from '@grafana/ui';

import { DerivedFieldConfig } from '../../types';

export interface DerivedFieldsEditorProps {
  value: DerivedFieldConfig[];
  onChange: (v: DerivedFieldConfig[]) => void;
}

const matcherOptions = [
  { label: 'Regex in log line', value: 'regex' as const },
  { label: 'Label', value: 'label' as const },
];

/** The list of derived fields: name, where the value comes from, and the link it becomes. */
export function DerivedFieldsEditor({ value, onChange }: DerivedFieldsEditorProps) {
  const update = (i: number, patch: Partial<DerivedFieldConfig>) => onChange(value.map((f, j) => (i === j ? { ...f, ...patch } : f)));
  return (
    <Stack direction="column" gap={2}>
      {value.map((f, i) => {
        const internal = f.datasourceUid !== undefined;
        return (
          <Stack key={i} direction="column" gap={0}>
            <Stack gap={1} alignItems="flex-end">
              <Field label="Name">
                <Input width={20} aria-label={`Derived field ${i + 1} name`} value={f.name} onChange={(e) => update(i, { name: e.currentTarget.value })} />
              </Field>
              <Field label="Value from">
                <RadioButtonGroup options={matcherOptions} value={f.matcherType ?? 'regex'} onChange={(v) => update(i, { matcherType: v })} />
              </Field>
              <Field label={f.matcherType === 'label' ? 'Label' : 'Regex'} description={f.matcherType === 'label' ? undefined : 'The first group is the value'}>
                <Input
                  width={30}
                  aria-label={`Derived field ${i + 1} ${f.matcherType === 'label' ? 'label' : 'regex'}`}
                  placeholder={f.matcherType === 'label' ? 'trace_id' : 'traceID=(\\w+)'}
                  value={f.matcherRegex}
                  onChange={(e) => update(i, { matcherRegex: e.currentTarget.value })}
                />
              </Field>
              <IconButton name="trash-alt" tooltip="Remove derived field" onClick={() => onChange(value.filter((_, j) => j !== i))} />
            </Stack>
            <Stack gap={1} alignItems="flex-end">
              <Field label="Internal link" description="Open another datasource">
                <InlineSwitch value={internal} onChange={(e) => update(i, { datasourceUid: e.currentTarget.checked ? '' : undefined })} />
              </Field>
              {internal && (
                <Field label="Datasource">
                  <DataSourcePicker tracing={true} current={f.datasourceUid || null} noDefault={true} width={30} onChange={(ds) => update(i, { datasourceUid: ds.uid })} />
                </Field>
              )}
              <Field label={internal ? 'Query' : 'URL'} description="${__value.raw} is the value">
                <Input
                  width={40}
                  aria-label={`Derived field ${i + 1} ${internal ? 'query' : 'URL'}`}
                  placeholder={internal ? '${__value.raw}' : 'https://tracing.example/trace/${__value.raw}'}
                  value={f.url ?? ''}
                  onChange={(e) => update(i, { url: e.currentTarget.value })}
                />
              </Field>
              <Field label="Link text">
                <Input width={20} value={f.urlDisplayLabel ?? ''} onChange={(e) => update(i, { urlDisplayLabel: e.currentTarget.value || undefined })} />
              </Field>
              {!internal && (
                <Field label="New tab">
                  <InlineSwitch value={Boolean(f.targetBlank)} onChange={(e) => update(i, { targetBlank: e.currentTarget.checked })} />
                </Field>
              )}
            </Stack>
          </Stack>
        );
      })}
      <div>
        <Button variant="secondary" icon="plus" size="sm" onClick={() => onChange([...value, { name: '', matcherType: 'regex', matcherRegex: '', url: '' }])}>
          Add derived field
        </Button>
      </div>
    </Stack>
  );
}
