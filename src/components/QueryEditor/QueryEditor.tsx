import React, { useEffect, useMemo, useState } from 'react';

import { CoreApp, QueryEditorProps } from '@grafana/data';
import { Alert, Button, Stack } from '@grafana/ui';

import type { LodeDatasource } from '../../datasource';
import { isLogsQuery } from '../../logql/parsing';
import { DEFAULT_MAX_LINES, LodeOptions, LodeQuery } from '../../types';
import { LabelBrowser } from './LabelBrowser';
import { LogQLField } from './LogQLField';
import { QueryOptions } from './QueryOptions';

export type LodeQueryEditorProps = QueryEditorProps<LodeDatasource, LodeQuery, LodeOptions>;

/** The query editor of dashboards, Explore and alert rules. */
export function QueryEditor(props: LodeQueryEditorProps) {
  const { datasource, query, onChange, onRunQuery, data, range, app } = props;
  const [browserOpen, setBrowserOpen] = useState(false);
  const alerting = app === CoreApp.UnifiedAlerting || app === CoreApp.CloudAlerting;
  const expr = query.expr ?? '';
  const isLogs = expr.trim() === '' || isLogsQuery(expr);

  useEffect(() => {
    datasource.resources.setRange(range);
  }, [datasource, range]);

  const hints = useMemo(() => (data?.series?.length ? datasource.getQueryHints(query, data.series) : []), [datasource, query, data]);

  const setExpr = (value: string, run = false) => {
    if (value !== expr) {
      onChange({ ...query, expr: value });
    }
    if (run) {
      onRunQuery();
    }
  };

  return (
    <Stack direction="column" gap={1}>
      <Stack gap={1} alignItems="flex-start">
        <Button variant="secondary" size="md" icon={browserOpen ? 'angle-down' : 'angle-right'} onClick={() => setBrowserOpen(!browserOpen)} aria-expanded={browserOpen}>
          Label browser
        </Button>
        <LogQLField value={expr} data={datasource.resources} onChange={(v) => setExpr(v)} onRunQuery={onRunQuery} />
      </Stack>
      {browserOpen && (
        <LabelBrowser
          data={datasource.resources}
          onUse={(selector) => {
            setBrowserOpen(false);
            setExpr(selector, true);
          }}
        />
      )}
      {alerting && isLogs && expr.trim() !== '' && (
        <Alert severity="warning" title="Alert rules need a metric query">
          {`This query returns log lines. Count them instead, for example sum(count_over_time(${expr} [5m])).`}
        </Alert>
      )}
      {hints.map((h) =>
        h.fix?.action ? (
          <Stack key={h.type} gap={1} alignItems="center">
            <span>{h.label}</span>
            <Button
              size="sm"
              variant="secondary"
              onClick={() => {
                onChange(datasource.modifyQuery(query, h.fix!.action!));
                onRunQuery();
              }}
            >
              {h.fix.label}
            </Button>
          </Stack>
        ) : null
      )}
      <QueryOptions
        query={query}
        onChange={onChange}
        onRunQuery={onRunQuery}
        alerting={alerting}
        isLogs={isLogs}
        defaultMaxLines={datasource.jsonData.maxLines ?? DEFAULT_MAX_LINES}
      />
    </Stack>
  );
}
