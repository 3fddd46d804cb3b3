// Query modification: label and line filters added to or removed from a LogQL query without
// breaking it, for Explore's "filter for value / filter out value", ad hoc filters and hints.
import { escapeString, matcherValueText, quote } from './escape';
import { LogExprInfo, MatchOp, MatcherInfo, logExpressions, selectors } from './parsing';

/** Where a label lives, as Grafana's logs frame labelTypes field says (I, S, P). */
export type LabelKind = 'indexed' | 'structured' | 'parsed' | 'unknown';

export type FilterOp = MatchOp | '>' | '<' | '>=' | '<=';

interface Edit {
  from: number;
  to: number;
  insert: string;
}

function applyEdits(text: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => b.from - a.from || b.to - a.to);
  let out = text;
  for (const e of sorted) {
    out = out.slice(0, e.from) + e.insert + out.slice(e.to);
  }
  return out;
}

function sameMatcher(m: MatcherInfo, key: string, op: string, value: string): boolean {
  return m.name === key && m.op === op && m.value === value;
}

function matcherText(key: string, op: FilterOp, value: string, regex: boolean): string {
  if (op === '>' || op === '<' || op === '>=' || op === '<=') {
    return `${key}${op}${/^-?\d+(\.\d+)?$/.test(value) ? value : quote(value)}`;
  }
  return `${key}${op}"${regex ? escapeString(value) : matcherValueText(op, value)}"`;
}

/** Where a label filter stage goes: after the last parser or label filter, else at the end. */
function labelFilterPosition(le: LogExprInfo): number {
  for (let i = le.stages.length - 1; i >= 0; i--) {
    const s = le.stages[i];
    if (s.kind === 'parser' || s.kind === 'labelFilter') {
      return s.to;
    }
  }
  return le.end;
}

/**
 * Adds a label filter to every log expression of the query. An indexed label (or, when the kind
 * is unknown, any label of a query without parser) goes into the stream selector; other labels
 * become a `| key="value"` stage after the last parser. A filter already present is not repeated.
 * The value is a literal (regex-escaped for =~ and !~) unless regex is true.
 */
export function addLabelFilter(expr: string, key: string, value: string, op: FilterOp = '=', kind: LabelKind = 'unknown', regex = false): string {
  const les = logExpressions(expr);
  if (les.length === 0) {
    return expr;
  }
  const isMatchOp = op === '=' || op === '!=' || op === '=~' || op === '!~';
  const hasParser = les.some((le) => le.stages.some((s) => s.kind === 'parser'));
  const inSelector = isMatchOp && (kind === 'indexed' || (kind === 'unknown' && !hasParser));
  const text = matcherText(key, op, value, regex);
  const edits: Edit[] = [];
  for (const le of les) {
    if (inSelector) {
      if (le.selector.matchers.some((m) => sameMatcher(m, key, op, value))) {
        continue;
      }
      const last = le.selector.matchers[le.selector.matchers.length - 1];
      edits.push(last ? { from: last.to, to: last.to, insert: `, ${text}` } : { from: le.selector.from + 1, to: le.selector.to - 1, insert: text });
      continue;
    }
    if (le.stages.some((s) => s.kind === 'labelFilter' && s.matchers?.length === 1 && sameMatcher(s.matchers[0], key, op, value))) {
      continue;
    }
    const at = labelFilterPosition(le);
    edits.push({ from: at, to: at, insert: ` | ${text}` });
  }
  return applyEdits(expr, edits);
}

/** Reports whether the query filters on key op value, in a selector or a label filter stage. */
export function hasLabelFilter(expr: string, key: string, value: string, op: MatchOp = '='): boolean {
  return logExpressions(expr).some(
    (le) =>
      le.selector.matchers.some((m) => sameMatcher(m, key, op, value)) ||
      le.stages.some((s) => s.kind === 'labelFilter' && s.simple && s.matchers?.some((m) => sameMatcher(m, key, op, value)))
  );
}

/** Removes the range [from, to) of a list item together with one adjacent separator. */
function removeListItem(text: string, from: number, to: number, listFrom: number, listTo: number): Edit {
  const after = text.slice(to, listTo);
  const sepAfter = /^\s*(,|\band\b|\bor\b)\s*/.exec(after);
  if (sepAfter) {
    return { from, to: to + sepAfter[0].length, insert: '' };
  }
  const before = text.slice(listFrom, from);
  const sepBefore = /\s*(,|\band\b|\bor\b)\s*$/.exec(before);
  if (sepBefore) {
    return { from: from - sepBefore[0].length, to, insert: '' };
  }
  return { from, to, insert: '' };
}

/**
 * Removes every filter key op value: from stream selectors (never leaving a selector empty) and
 * from label filter stages (a stage left with nothing is removed with its pipe).
 */
export function removeLabelFilter(expr: string, key: string, value: string, op: MatchOp = '='): string {
  const edits: Edit[] = [];
  for (const le of logExpressions(expr)) {
    const sel = le.selector;
    const hits = sel.matchers.filter((m) => sameMatcher(m, key, op, value));
    if (hits.length > 0 && hits.length < sel.matchers.length) {
      for (const m of hits) {
        edits.push(removeListItem(expr, m.from, m.to, sel.from + 1, sel.to - 1));
      }
    }
    for (const s of le.stages) {
      if (s.kind !== 'labelFilter' || !s.simple || !s.matchers) {
        continue;
      }
      const stageHits = s.matchers.filter((m) => sameMatcher(m, key, op, value));
      if (stageHits.length === 0) {
        continue;
      }
      if (stageHits.length === s.matchers.length) {
        // The whole stage goes, with the space before it.
        const start = /\s*$/.exec(expr.slice(0, s.from))![0].length;
        edits.push({ from: s.from - start, to: s.to, insert: '' });
        continue;
      }
      const bodyFrom = s.from + (/^\|\s*/.exec(expr.slice(s.from, s.to))?.[0].length ?? 0);
      for (const m of stageHits) {
        edits.push(removeListItem(expr, m.from, m.to, bodyFrom, s.to));
      }
    }
  }
  return applyEdits(expr, edits);
}

/**
 * Toggles a "filter for" (=) or "filter out" (!=) label filter: an identical filter is removed,
 * the opposite one is replaced.
 */
export function toggleLabelFilter(expr: string, key: string, value: string, out: boolean, kind: LabelKind = 'unknown'): string {
  const op: MatchOp = out ? '!=' : '=';
  const opposite: MatchOp = out ? '=' : '!=';
  if (hasLabelFilter(expr, key, value, op)) {
    return removeLabelFilter(expr, key, value, op);
  }
  const cleaned = hasLabelFilter(expr, key, value, opposite) ? removeLabelFilter(expr, key, value, opposite) : expr;
  return addLabelFilter(cleaned, key, value, op, kind);
}

/**
 * Adds a line filter (|= "value" or != "value") right after every stream selector and its
 * existing line filters, where it is cheapest to evaluate.
 */
export function addLineFilter(expr: string, value: string, out = false): string {
  const filter = `${out ? '!=' : '|='} ${quote(value)}`;
  const edits: Edit[] = [];
  for (const le of logExpressions(expr)) {
    let at = le.selector.to;
    for (const s of le.stages) {
      if (s.kind !== 'lineFilter') {
        break;
      }
      at = s.to;
    }
    edits.push({ from: at, to: at, insert: ` ${filter}` });
  }
  return applyEdits(expr, edits);
}

/** Adds a parser stage (json, logfmt) after the selector's line filters, unless present. */
export function addParser(expr: string, parserName: string): string {
  const edits: Edit[] = [];
  for (const le of logExpressions(expr)) {
    let at = le.selector.to;
    for (const s of le.stages) {
      if (s.kind !== 'lineFilter') {
        break;
      }
      at = s.to;
    }
    edits.push({ from: at, to: at, insert: ` | ${parserName}` });
  }
  return applyEdits(expr, edits);
}

/** Adds `| __error__=""` so that lines a parser could not read are dropped. */
export function addNoPipelineErrors(expr: string): string {
  return addLabelFilter(expr, '__error__', '', '=', 'parsed');
}

/** Builds a stream selector from labels, e.g. {app="api", namespace="prod"} (sorted by name). */
export function selectorFromLabels(labels: Record<string, string>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeString(labels[k])}"`);
  return `{${parts.join(', ')}}`;
}

/** The labels of the first stream selector that are exact (=) matchers. */
export function exactSelectorLabels(expr: string): Record<string, string> {
  const out: Record<string, string> = {};
  const first = selectors(expr)[0];
  for (const m of first?.matchers ?? []) {
    if (m.op === '=') {
      out[m.name] = m.value;
    }
  }
  return out;
}
