import React from 'react';

import { AnnotationQuery, QueryEditorProps } from '@grafana/data';
import { Field, Input, Stack } from '@grafana/ui';

import type { LodeDatasource } from '../../datasource';
import { LodeAnnotationQuery, LodeOptions, LodeQuery, LodeQueryType } from '../../types';
import { LogQLField } from '../QueryEditor/LogQLField';

type Props = QueryEditorProps<LodeDatasource, LodeQuery, LodeOptions, LodeAnnotationQuery> & {
  annotation?: AnnotationQuery<LodeAnnotationQuery>;
  onAnnotationChange?: (annotation: AnnotationQuery<LodeAnnotationQuery>) => void;
};

/** Annotations from log lines: the query, and how lines become titles, texts and tags. */
export function AnnotationEditor({ datasource, annotation, onAnnotationChange }: Props) {
  if (!annotation || !onAnnotationChange) {
    return null;
  }
  const target: LodeAnnotationQuery = { refId: 'Anno', queryType: LodeQueryType.Range, expr: '', ...annotation.target };
  const set = (patch: Partial<LodeAnnotationQuery>) => onAnnotationChange({ ...annotation, target: { ...target, ...patch } });
  return (
    <Stack direction="column" gap={1}>
      <Field label="Query" description="A log query; every line it returns becomes an annotation, e.g. {app=&quot;deployer&quot;} |= &quot;deployed&quot;">
        <LogQLField value={target.expr} data={datasource.resources} onChange={(expr) => set({ expr })} />
      </Field>
      <Field label="Title" description="Template: {{label}} is replaced by the line's label value">
        <Input id="lode-anno-title" defaultValue={target.titleFormat ?? ''} onBlur={(e) => set({ titleFormat: e.currentTarget.value || undefined })} />
      </Field>
      <Field label="Text" description="Template; empty: the log line">
        <Input id="lode-anno-text" defaultValue={target.textFormat ?? ''} onBlur={(e) => set({ textFormat: e.currentTarget.value || undefined })} />
      </Field>
      <Field label="Tags" description="Comma-separated labels whose values become tags">
        <Input id="lode-anno-tags" defaultValue={target.tagKeys ?? ''} placeholder="app, level" onBlur={(e) => set({ tagKeys: e.currentTarget.value || undefined })} />
      </Field>
    </Stack>
  );
}
