// Template variables in LogQL: how a variable's value is written into a query, and ad hoc filters.
import { AdHocVariableFilter } from '@grafana/data';

import { escapeRegex, escapeString } from './escape';
import { FilterOp, addLabelFilter } from './modify';

/** The part of a template variable the formatter looks at. */
export interface VariableLike {
  multi?: boolean;
  includeAll?: boolean;
}

/**
 * Formats a variable's value for a LogQL query, for templateSrv.replace. A single-value variable
 * is inserted as typed, escaped only so that it stays inside its quotes (it may be a regex for
 * =~). A multi-value or "All" variable is meant for =~: each value is regex-escaped and the
 * values are joined with |, so "a.b" matches only "a.b".
 */
export function formatVariableValue(value: string | string[], variable?: VariableLike): string {
  const multi = Boolean(variable?.multi || variable?.includeAll);
  if (typeof value === 'string') {
    return escapeString(multi ? escapeRegex(value) : value);
  }
  if (!multi && value.length === 1) {
    return escapeString(value[0]);
  }
  return value.map((v) => escapeString(escapeRegex(v))).join('|');
}

const adHocOps: Record<string, FilterOp | undefined> = {
  '=': '=',
  '!=': '!=',
  '=~': '=~',
  '!~': '!~',
  '>': '>',
  '<': '<',
  '>=': '>=',
  '<=': '<=',
};

/**
 * Applies ad hoc filters to a query. Equality filters on labels of the stream selector (or of a
 * query without parser) go into the selector; the others become label filter stages. A regex
 * operator takes the value as a regex, as Grafana's ad hoc filter UI sends it.
 */
export function applyAdHocFilters(expr: string, filters: AdHocVariableFilter[] | undefined, indexedLabels?: Set<string>): string {
  let out = expr;
  for (const f of filters ?? []) {
    const op = adHocOps[f.operator];
    if (!op || !f.key) {
      continue;
    }
    const kind = indexedLabels ? (indexedLabels.has(f.key) ? 'indexed' : 'parsed') : 'unknown';
    out = addLabelFilter(out, f.key, f.value, op, kind, op === '=~' || op === '!~');
  }
  return out;
}
