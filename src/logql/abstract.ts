// Metrics-to-logs: Explore's abstract queries (label matchers of a Prometheus query) turned into
// a Lode stream selector, and back.
import { AbstractLabelMatcher, AbstractLabelOperator } from '@grafana/data';

import { escapeString } from './escape';
import { MatchOp, selectors } from './parsing';
import { LabelMapping } from '../types';

const toOp: Record<AbstractLabelOperator, MatchOp> = {
  [AbstractLabelOperator.Equal]: '=',
  [AbstractLabelOperator.NotEqual]: '!=',
  [AbstractLabelOperator.EqualRegEx]: '=~',
  [AbstractLabelOperator.NotEqualRegEx]: '!~',
};

const fromOp: Record<MatchOp, AbstractLabelOperator> = {
  '=': AbstractLabelOperator.Equal,
  '!=': AbstractLabelOperator.NotEqual,
  '=~': AbstractLabelOperator.EqualRegEx,
  '!~': AbstractLabelOperator.NotEqualRegEx,
};

/** A matcher that was not carried over, and why. */
export interface DroppedMatcher {
  label: string;
  reason: string;
}

export interface ImportedSelector {
  /** The LogQL stream selector, or '' when no kept matcher selects anything. */
  selector: string;
  dropped: DroppedMatcher[];
}

/** Reports whether a matcher matches the empty value (so that it cannot select streams alone). */
export function matchesEmpty(op: MatchOp, value: string): boolean {
  switch (op) {
    case '=':
      return value === '';
    case '!=':
      return value !== '';
    case '=~':
    case '!~': {
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${value})$`);
      } catch {
        // Not a JavaScript regex (RE2 has a few forms JavaScript lacks): assume it selects.
        return op === '!~';
      }
      return re.test('') === (op === '=~');
    }
  }
}

/**
 * Turns label matchers of a metrics query into a LogQL stream selector. The metric name and
 * internal labels (__name__, __*) are dropped; other names go through the label mapping
 * (metrics label → logs label); a matcher whose (mapped) label Lode does not know is dropped
 * (knownLabels undefined: every label is kept). Regex and negative matchers are carried over.
 */
export function importLabelMatchers(matchers: AbstractLabelMatcher[], mapping: LabelMapping[] = [], knownLabels?: Set<string>): ImportedSelector {
  const rename = new Map(mapping.map((m) => [m.metricsLabel, m.logsLabel]));
  const dropped: DroppedMatcher[] = [];
  const parts: string[] = [];
  const seen = new Set<string>();
  let selects = false;
  for (const m of matchers) {
    if (m.name.startsWith('__')) {
      dropped.push({ label: m.name, reason: 'the metric name and internal labels do not apply to logs' });
      continue;
    }
    const name = rename.get(m.name) ?? m.name;
    if (knownLabels && !knownLabels.has(name)) {
      dropped.push({ label: m.name, reason: `Lode has no label "${name}" in this time range` });
      continue;
    }
    const op = toOp[m.operator] ?? '=';
    const text = `${name}${op}"${escapeString(m.value)}"`;
    if (seen.has(text)) {
      continue;
    }
    seen.add(text);
    parts.push(text);
    selects = selects || !matchesEmpty(op, m.value);
  }
  return { selector: selects ? `{${parts.join(', ')}}` : '', dropped };
}

/**
 * The label matchers of a Lode query for other datasources: the first stream selector, with
 * logs labels mapped back to their metrics names.
 */
export function exportLabelMatchers(expr: string, mapping: LabelMapping[] = []): AbstractLabelMatcher[] {
  const back = new Map(mapping.map((m) => [m.logsLabel, m.metricsLabel]));
  const first = selectors(expr)[0];
  return (first?.matchers ?? []).map((m) => ({ name: back.get(m.name) ?? m.name, operator: fromOp[m.op], value: m.value }));
}
