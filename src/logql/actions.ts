// Query modifications Explore and the editor ask for by name (log details, hints, popovers).
import { DataFrame, QueryFixAction, QueryHint, ToggleFilterAction } from '@grafana/data';

import { rowLabelTypes } from './context';
import { LabelKind, addLabelFilter, addLineFilter, addNoPipelineErrors, addParser, hasLabelFilter, toggleLabelFilter } from './modify';
import { isLogsQuery, parsersOf } from './parsing';

export const SUPPORTED_MODIFICATIONS = [
  'ADD_FILTER',
  'ADD_FILTER_OUT',
  'ADD_STRING_FILTER',
  'ADD_STRING_FILTER_OUT',
  'ADD_LINE_FILTER',
  'ADD_LINE_FILTER_OUT',
  'ADD_JSON_PARSER',
  'ADD_LOGFMT_PARSER',
  'ADD_NO_PIPELINE_ERROR',
];

const kinds: Record<string, LabelKind> = { I: 'indexed', S: 'structured', P: 'parsed' };

/** The kind of a label as the row's frame says (labelTypes field), else unknown. */
export function labelKind(key: string, frame?: DataFrame, index = 0): LabelKind {
  const types = rowLabelTypes(frame, index);
  if (!types) {
    return frame?.fields.some((f) => f.name === 'labels') ? 'indexed' : 'unknown';
  }
  return kinds[types[key] ?? 'I'] ?? 'unknown';
}

/** Applies a named modification to an expression; unknown actions leave it unchanged. */
export function modifyExpr(expr: string, action: QueryFixAction): string {
  const key = action.options?.key ?? '';
  const value = action.options?.value ?? '';
  switch (action.type) {
    case 'ADD_FILTER':
      return addLabelFilter(expr, key, value, '=', labelKind(key, action.frame));
    case 'ADD_FILTER_OUT':
      return addLabelFilter(expr, key, value, '!=', labelKind(key, action.frame));
    case 'ADD_STRING_FILTER':
    case 'ADD_LINE_FILTER':
      return value ? addLineFilter(expr, value) : expr;
    case 'ADD_STRING_FILTER_OUT':
    case 'ADD_LINE_FILTER_OUT':
      return value ? addLineFilter(expr, value, true) : expr;
    case 'ADD_JSON_PARSER':
      return addParser(expr, 'json');
    case 'ADD_LOGFMT_PARSER':
      return addParser(expr, 'logfmt');
    case 'ADD_NO_PIPELINE_ERROR':
      return addNoPipelineErrors(expr);
  }
  return expr;
}

/** Explore's "filter for value" / "filter out value" toggles from log details. */
export function toggleFilterExpr(expr: string, filter: ToggleFilterAction): string {
  const key = filter.options.key ?? '';
  const value = filter.options.value ?? '';
  if (!key) {
    return expr;
  }
  return toggleLabelFilter(expr, key, value, filter.type === 'FILTER_OUT', labelKind(key, filter.frame));
}

/** Whether the filter-for (or, with negate, filter-out) filter of a value is in the query. */
export function exprHasFilter(expr: string, key: string, value: string, negate = false): boolean {
  return hasLabelFilter(expr, key, value, negate ? '!=' : '=');
}

const JSON_LINE = /^\s*\{.*\}\s*$/;
const LOGFMT_LINE = /^(?:\s*[\w.-]+=(?:"[^"]*"|\S*)){2,}\s*$/;

function sampleLines(series: DataFrame[], max = 20): string[] {
  const out: string[] = [];
  for (const f of series) {
    const body = f.fields.find((x) => x.name === 'body' || x.name === 'Line' || x.name === 'line');
    if (!body) {
      continue;
    }
    for (let i = 0; i < body.values.length && out.length < max; i++) {
      out.push(String(body.values[i]));
    }
  }
  return out;
}

function hasErrorLabel(series: DataFrame[]): boolean {
  return series.some((f) => {
    const labels = f.fields.find((x) => x.name === 'labels');
    return labels?.values.some((l) => l && typeof l === 'object' && '__error__' in l) ?? false;
  });
}

/**
 * Hints for a query from its results: add a parser when most lines are JSON or logfmt and the
 * query has none; drop pipeline errors when a parser failed on some lines.
 */
export function queryHints(expr: string, series: DataFrame[]): QueryHint[] {
  if (!expr.trim() || !isLogsQuery(expr)) {
    return [];
  }
  const hints: QueryHint[] = [];
  const parsers = parsersOf(expr);
  const lines = sampleLines(series);
  if (parsers.length === 0 && lines.length > 0) {
    const half = lines.length / 2;
    if (lines.filter((l) => JSON_LINE.test(l)).length > half) {
      hints.push({
        type: 'ADD_JSON_PARSER',
        label: 'The lines are JSON: a json parser turns their fields into labels you can filter on.',
        fix: { label: 'Add json parser', action: { type: 'ADD_JSON_PARSER', query: expr } },
      });
    } else if (lines.filter((l) => LOGFMT_LINE.test(l)).length > half) {
      hints.push({
        type: 'ADD_LOGFMT_PARSER',
        label: 'The lines are logfmt: a logfmt parser turns their fields into labels you can filter on.',
        fix: { label: 'Add logfmt parser', action: { type: 'ADD_LOGFMT_PARSER', query: expr } },
      });
    }
  }
  if (parsers.length > 0 && hasErrorLabel(series) && !expr.includes('__error__')) {
    hints.push({
      type: 'ADD_NO_PIPELINE_ERROR',
      label: 'Some lines could not be parsed and carry an __error__ label.',
      fix: { label: 'Drop lines with parse errors', action: { type: 'ADD_NO_PIPELINE_ERROR', query: expr } },
    });
  }
  return hints;
}
