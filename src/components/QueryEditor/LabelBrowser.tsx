import { css, cx } from '@emotion/css';
import React, { useEffect, useMemo, useState } from 'react';

import { GrafanaTheme2 } from '@grafana/data';
import { Button, Input, Stack, Text, useStyles2 } from '@grafana/ui';

import { CompletionData } from '../../logql/completion/suggestions';
import { Selection, buildSelector, selectorWithout } from './labelBrowser';

export interface LabelBrowserProps {
  data: CompletionData;
  /** Called with the query to use: the selector, or a rate query over it. */
  onUse: (expr: string) => void;
}

/**
 * Browses the labels and values Lode has in the time range and builds a stream selector.
 * Values of a label are narrowed by the values chosen for the other labels.
 */
export function LabelBrowser({ data, onUse }: LabelBrowserProps) {
  const styles = useStyles2(getStyles);
  const [names, setNames] = useState<string[]>([]);
  const [open, setOpen] = useState<string | undefined>();
  const [values, setValues] = useState<string[]>([]);
  const [filter, setFilter] = useState('');
  const [selection, setSelection] = useState<Selection>({});
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    let live = true;
    data.labelNames().then(
      (n) => live && setNames(n.filter((x) => !x.startsWith('__'))),
      (e) => live && setError(`Label names could not be loaded: ${e?.data?.error ?? e?.message ?? e}`)
    );
    return () => {
      live = false;
    };
  }, [data]);

  const narrowing = useMemo(() => (open ? selectorWithout(selection, open) : undefined), [open, selection]);
  useEffect(() => {
    if (!open) {
      return;
    }
    let live = true;
    data.labelValues(open, narrowing).then(
      (v) => live && setValues(v),
      (e) => live && setError(`Values of ${open} could not be loaded: ${e?.data?.error ?? e?.message ?? e}`)
    );
    return () => {
      live = false;
    };
  }, [data, open, narrowing]);

  const toggleValue = (label: string, value: string) => {
    setSelection((s) => {
      const cur = s[label] ?? [];
      const next = cur.includes(value) ? cur.filter((v) => v !== value) : [...cur, value];
      return { ...s, [label]: next };
    });
  };

  const selector = buildSelector(selection);
  const shown = values.filter((v) => v.toLowerCase().includes(filter.toLowerCase()));

  return (
    <div className={styles.browser} data-testid="lode-label-browser">
      <Text variant="bodySmall" color="secondary">
        1. Choose labels
      </Text>
      <div className={styles.list}>
        {names.map((n) => (
          <button
            type="button"
            key={n}
            className={cx(styles.chip, { [styles.active]: n === open || (selection[n]?.length ?? 0) > 0 })}
            onClick={() => {
              setOpen(n === open ? undefined : n);
              setFilter('');
              setValues([]);
            }}
          >
            {n}
            {selection[n]?.length ? ` (${selection[n].length})` : ''}
          </button>
        ))}
      </div>
      {open && (
        <>
          <Text variant="bodySmall" color="secondary">
            {`2. Choose values of ${open}`}
          </Text>
          <Input placeholder="Filter values" value={filter} onChange={(e) => setFilter(e.currentTarget.value)} width={40} />
          <div className={styles.list}>
            {shown.map((v) => (
              <button
                type="button"
                key={v}
                aria-pressed={selection[open]?.includes(v) ?? false}
                className={cx(styles.chip, { [styles.active]: selection[open]?.includes(v) })}
                onClick={() => toggleValue(open, v)}
              >
                {v}
              </button>
            ))}
          </div>
        </>
      )}
      {error && (
        <Text color="error" variant="bodySmall">
          {error}
        </Text>
      )}
      <Text variant="bodySmall" color="secondary">
        3. Resulting selector
      </Text>
      <code className={styles.selector} aria-label="Resulting selector">
        {selector || '{}'}
      </code>
      <Stack gap={1}>
        <Button size="sm" disabled={!selector} onClick={() => onUse(selector)}>
          Show logs
        </Button>
        <Button size="sm" variant="secondary" disabled={!selector} onClick={() => onUse(`rate(${selector} [$__auto])`)}>
          Show logs rate
        </Button>
        <Button size="sm" variant="secondary" fill="outline" onClick={() => setSelection({})}>
          Clear
        </Button>
      </Stack>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  browser: css({
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(1),
    padding: theme.spacing(1),
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    marginBottom: theme.spacing(1),
  }),
  list: css({ display: 'flex', flexWrap: 'wrap', gap: theme.spacing(0.5), maxHeight: 200, overflowY: 'auto' }),
  chip: css({
    border: `1px solid ${theme.colors.border.medium}`,
    borderRadius: theme.shape.radius.pill,
    background: theme.colors.background.secondary,
    color: theme.colors.text.primary,
    padding: theme.spacing(0.25, 1),
    fontSize: theme.typography.bodySmall.fontSize,
    cursor: 'pointer',
  }),
  active: css({ background: theme.colors.primary.transparent, borderColor: theme.colors.primary.border }),
  selector: css({ fontFamily: theme.typography.fontFamilyMonospace, wordBreak: 'break-all' }),
});
