import React from 'react';

import { Button, IconButton, Input, Stack } from '@grafana/ui';

import { LabelMapping } from '../../types';

export interface LabelMappingEditorProps {
  value: LabelMapping[];
  onChange: (v: LabelMapping[]) => void;
}

/** Rows of metrics label → logs label. */
export function LabelMappingEditor({ value, onChange }: LabelMappingEditorProps) {
  const update = (i: number, patch: Partial<LabelMapping>) => onChange(value.map((m, j) => (i === j ? { ...m, ...patch } : m)));
  return (
    <Stack direction="column" gap={1}>
      {value.map((m, i) => (
        <Stack key={i} gap={1} alignItems="center">
          <Input width={30} aria-label={`Metrics label ${i + 1}`} placeholder="metrics label, e.g. kubernetes_namespace" value={m.metricsLabel} onChange={(e) => update(i, { metricsLabel: e.currentTarget.value.trim() })} />
          <span aria-hidden>→</span>
          <Input width={30} aria-label={`Logs label ${i + 1}`} placeholder="logs label, e.g. namespace" value={m.logsLabel} onChange={(e) => update(i, { logsLabel: e.currentTarget.value.trim() })} />
          <IconButton name="trash-alt" tooltip="Remove mapping" onClick={() => onChange(value.filter((_, j) => j !== i))} />
        </Stack>
      ))}
      <div>
        <Button variant="secondary" icon="plus" size="sm" onClick={() => onChange([...value, { metricsLabel: '', logsLabel: '' }])}>
          Add label mapping
        </Button>
      </div>
    </Stack>
  );
}
