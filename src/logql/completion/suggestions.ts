// What to suggest in each completion situation. Editor-neutral: the monaco glue turns these into
// completion items.
import { escapeRegex, escapeString } from '../escape';
import { matchesEmpty } from '../abstract';
import { MatchOp } from '../parsing';
import { OtherMatcher, Situation } from './situation';

export type CompletionKind = 'function' | 'label' | 'value' | 'keyword' | 'operator' | 'duration' | 'snippet';

export interface Completion {
  label: string;
  insertText: string;
  kind: CompletionKind;
  detail?: string;
  documentation?: string;
  /** Open the suggestions again after inserting (e.g. after a label name and =). */
  triggerSuggest?: boolean;
  /** insertText is a snippet with $0 / ${1:x} placeholders. */
  snippet?: boolean;
}

/** Where label names and values come from (the plugin backend's resources). */
export interface CompletionData {
  labelNames(selector?: string): Promise<string[]>;
  labelValues(name: string, selector?: string): Promise<string[]>;
}

interface Fn {
  name: string;
  doc: string;
  range?: boolean;
}

const RANGE_FUNCTIONS: Fn[] = [
  { name: 'rate', doc: 'Lines per second over the range.', range: true },
  { name: 'count_over_time', doc: 'Number of lines over the range, per stream.', range: true },
  { name: 'bytes_rate', doc: 'Bytes of lines per second over the range.', range: true },
  { name: 'bytes_over_time', doc: 'Bytes of lines over the range.', range: true },
  { name: 'absent_over_time', doc: '1 when no line exists in the range; nothing otherwise.', range: true },
  { name: 'sum_over_time', doc: 'Sum of an unwrapped label over the range.', range: true },
  { name: 'avg_over_time', doc: 'Average of an unwrapped label over the range.', range: true },
  { name: 'min_over_time', doc: 'Smallest value of an unwrapped label over the range.', range: true },
  { name: 'max_over_time', doc: 'Largest value of an unwrapped label over the range.', range: true },
  { name: 'first_over_time', doc: 'First value of an unwrapped label in the range.', range: true },
  { name: 'last_over_time', doc: 'Last value of an unwrapped label in the range.', range: true },
  { name: 'stddev_over_time', doc: 'Standard deviation of an unwrapped label over the range.', range: true },
  { name: 'stdvar_over_time', doc: 'Variance of an unwrapped label over the range.', range: true },
  { name: 'quantile_over_time', doc: 'φ-quantile (0 ≤ φ ≤ 1) of an unwrapped label over the range.', range: true },
  { name: 'rate_counter', doc: 'Per-second rate of an unwrapped counter label, with counter resets.', range: true },
];

const AGGREGATIONS: Fn[] = [
  { name: 'sum', doc: 'Sum over series, optionally by (labels).' },
  { name: 'avg', doc: 'Average over series.' },
  { name: 'min', doc: 'Smallest value over series.' },
  { name: 'max', doc: 'Largest value over series.' },
  { name: 'count', doc: 'Number of series.' },
  { name: 'stddev', doc: 'Standard deviation over series.' },
  { name: 'stdvar', doc: 'Variance over series.' },
  { name: 'topk', doc: 'The k largest series: topk(k, expr).' },
  { name: 'bottomk', doc: 'The k smallest series: bottomk(k, expr).' },
  { name: 'sort', doc: 'Series sorted by value, ascending.' },
  { name: 'sort_desc', doc: 'Series sorted by value, descending.' },
];

const OTHER_FUNCTIONS: Fn[] = [
  { name: 'vector', doc: 'A constant: vector(0).' },
  { name: 'label_replace', doc: 'label_replace(expr, "dst", "replacement", "src", "regex").' },
];

interface Stage {
  label: string;
  insert: string;
  doc: string;
  rangeOnly?: boolean;
}

const LINE_FILTERS: Stage[] = [
  { label: '|=', insert: '|= "$0"', doc: 'Keep lines that contain the text.' },
  { label: '!=', insert: '!= "$0"', doc: 'Drop lines that contain the text.' },
  { label: '|~', insert: '|~ "$0"', doc: 'Keep lines that match the regex.' },
  { label: '!~', insert: '!~ "$0"', doc: 'Drop lines that match the regex.' },
];

const STAGES: Stage[] = [
  { label: 'json', insert: 'json', doc: 'Parse JSON lines: their fields become labels.' },
  { label: 'logfmt', insert: 'logfmt', doc: 'Parse key=value lines: their keys become labels.' },
  { label: 'pattern', insert: 'pattern "$0"', doc: 'Extract labels with a pattern such as "<ip> - - <_> \\"<method> <uri>\\"".' },
  { label: 'regexp', insert: 'regexp "$0"', doc: 'Extract labels with named regex groups (?P<name>...).' },
  { label: 'unpack', insert: 'unpack', doc: 'Unpack lines packed by the pack stage.' },
  { label: 'line_format', insert: 'line_format "$0"', doc: 'Rewrite the line with a template: "{{.label}}".' },
  { label: 'label_format', insert: 'label_format $0', doc: 'Rename or template labels: new=old, name="{{.x}}".' },
  { label: 'decolorize', insert: 'decolorize', doc: 'Remove ANSI colour codes from lines.' },
  { label: 'drop', insert: 'drop $0', doc: 'Drop labels: drop a, b.' },
  { label: 'keep', insert: 'keep $0', doc: 'Keep only these labels: keep a, b.' },
  { label: 'unwrap', insert: 'unwrap $0', doc: 'Use a label value as the sample value of a range function.', rangeOnly: true },
];

const RANGES = ['$__auto', '$__interval', '$__range', '1m', '5m', '10m', '1h'];

/** The text between the quotes of a label value for op. */
export function labelValueText(op: string, value: string): string {
  return escapeString(op === '=~' || op === '!~' ? escapeRegex(value) : value);
}

/** A stream selector from the other matchers of the selector, if any of them selects streams. */
export function narrowingSelector(others: OtherMatcher[]): string | undefined {
  const usable = others.filter((o) => ['=', '!=', '=~', '!~'].includes(o.op) && !o.value.includes('$'));
  if (!usable.some((o) => !matchesEmpty(o.op as MatchOp, o.value))) {
    return undefined;
  }
  return `{${usable.map((o) => `${o.name}${o.op}"${escapeString(o.value)}"`).join(', ')}}`;
}

function functions(): Completion[] {
  const fn = (kind: string) => (f: Fn) => ({
    label: f.name,
    insertText: f.range ? `${f.name}($0 [$__auto])` : `${f.name}($0)`,
    snippet: true,
    kind: 'function' as const,
    detail: kind,
    documentation: f.doc,
  });
  return [
    ...RANGE_FUNCTIONS.map(fn('range function')),
    ...AGGREGATIONS.map(fn('aggregation')),
    ...OTHER_FUNCTIONS.map(fn('function')),
    { label: '{', insertText: '{$0}', snippet: true, kind: 'snippet', detail: 'stream selector', documentation: 'Select streams by label: {app="api"}.', triggerSuggest: true },
  ];
}

function stages(afterPipe: boolean, inRange: boolean, labels: string[]): Completion[] {
  const out: Completion[] = [];
  if (!afterPipe) {
    for (const f of LINE_FILTERS) {
      out.push({ label: f.label, insertText: f.insert, snippet: true, kind: 'operator', detail: 'line filter', documentation: f.doc });
    }
  }
  for (const s of STAGES) {
    if (s.rangeOnly && !inRange) {
      continue;
    }
    out.push({ label: s.label, insertText: afterPipe ? s.insert : `| ${s.insert}`, snippet: true, kind: 'keyword', detail: 'pipeline stage', documentation: s.doc });
  }
  if (afterPipe) {
    for (const l of labels) {
      out.push({ label: l, insertText: `${l}=`, kind: 'label', detail: 'label filter', triggerSuggest: false });
    }
  }
  return out;
}

/** The completions for a situation, asking data for label names and values when needed. */
export async function getCompletions(s: Situation, data: CompletionData): Promise<Completion[]> {
  switch (s.type) {
    case 'EXPRESSION':
      return functions();
    case 'LABEL_NAME': {
      const used = new Set(s.otherLabels.map((o) => o.name));
      const names = await data.labelNames(narrowingSelector(s.otherLabels));
      return names.filter((n) => !used.has(n)).map((n) => ({ label: n, insertText: `${n}=`, kind: 'label', triggerSuggest: true }));
    }
    case 'LABEL_VALUE': {
      const values = await data.labelValues(s.labelName, narrowingSelector(s.otherLabels));
      return values.map((v) => {
        const text = labelValueText(s.op, v);
        return { label: v, insertText: s.inQuotes ? text : `"${text}"`, kind: 'value', detail: s.labelName };
      });
    }
    case 'AFTER_SELECTOR': {
      const labels = s.afterPipe ? await data.labelNames(s.selector || undefined) : [];
      return stages(s.afterPipe, s.inRangeFunction, labels);
    }
    case 'RANGE':
      return RANGES.map((r) => ({ label: r, insertText: r, kind: 'duration' }));
    case 'GROUPING':
    case 'UNWRAP': {
      const names = await data.labelNames(s.selector || undefined);
      return names.map((n) => ({ label: n, insertText: n, kind: 'label' }));
    }
  }
  return [];
}
