// Log row context: the query and time range that show the lines logged before or after a row by
// the same stream.
import { DataFrame, LogRowContextQueryDirection, LogRowModel } from '@grafana/data';

import { selectorFromLabels } from './modify';
import { LodeDirection, LodeQuery, LodeQueryType } from '../types';

/** The default span searched for context lines on each side of a row. */
export const CONTEXT_WINDOW_MS = 2 * 60 * 60 * 1000;

const LABEL_TYPES_FIELD = 'labelTypes';

/** The label types of one row (I indexed, S structured metadata, P parsed), when the frame has them. */
export function rowLabelTypes(frame: DataFrame | undefined, index: number | null | undefined): Record<string, string> | undefined {
  if (!frame || index == null) {
    return undefined;
  }
  const field = frame.fields.find((f) => f.name === LABEL_TYPES_FIELD);
  const raw = field?.values[index];
  if (raw == null) {
    return undefined;
  }
  if (typeof raw === 'string') {
    try {
      return JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  return raw as Record<string, string>;
}

/** The row's stream labels: its indexed labels only, so that context shows the same stream. */
export function streamLabels(row: LogRowModel): Record<string, string> {
  const types = rowLabelTypes(row.dataFrame, row.rowIndex);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(row.labels ?? {})) {
    if (!types || (types[k] ?? 'I') === 'I') {
      out[k] = v;
    }
  }
  return out;
}

export interface ContextPlan {
  query: LodeQuery;
  /** Time range in ms since the epoch. */
  from: number;
  to: number;
}

/**
 * The context query of a row: the row's stream selector, `limit` lines, backward from the row
 * for the lines before it (the range ends just after the row's millisecond, so lines logged in
 * the same millisecond are included) or forward from it for the lines after. Returns undefined
 * when the row has no stream labels.
 */
export function contextPlan(row: LogRowModel, direction: LogRowContextQueryDirection, limit: number, windowMs = CONTEXT_WINDOW_MS, refId = 'log-context'): ContextPlan | undefined {
  const labels = streamLabels(row);
  if (Object.keys(labels).length === 0) {
    return undefined;
  }
  const backward = direction !== LogRowContextQueryDirection.Forward;
  const ts = row.timeEpochMs;
  const query: LodeQuery = {
    refId: `${refId}-${backward ? 'before' : 'after'}`,
    expr: selectorFromLabels(labels),
    queryType: LodeQueryType.Range,
    maxLines: limit,
    direction: backward ? LodeDirection.Backward : LodeDirection.Forward,
  };
  return backward ? { query, from: ts - windowMs, to: ts + 1 } : { query, from: ts, to: ts + windowMs };
}
