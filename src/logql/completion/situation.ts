// Where the cursor is in a LogQL query, in terms of what can be typed there. The analysis reads
// the text before the cursor token by token, so it works on the incomplete queries one types.

export interface OtherMatcher {
  name: string;
  op: string;
  value: string;
}

export type Situation =
  /** Start of a query or an argument: functions, aggregations, a stream selector. */
  | { type: 'EXPRESSION' }
  /** In a stream selector where a label name goes; otherLabels are the matchers already there. */
  | { type: 'LABEL_NAME'; otherLabels: OtherMatcher[] }
  /** In a stream selector after name op; inQuotes: the opening quote is typed already. */
  | { type: 'LABEL_VALUE'; labelName: string; op: string; inQuotes: boolean; otherLabels: OtherMatcher[] }
  /** After a selector or a pipeline stage: line filters and | stages. */
  | { type: 'AFTER_SELECTOR'; selector: string; afterPipe: boolean; inRangeFunction: boolean }
  /** Inside [ ]: a range duration. */
  | { type: 'RANGE' }
  /** Inside by ( ) / without ( ): label names. */
  | { type: 'GROUPING'; selector: string }
  /** After | unwrap: a (numeric) label name. */
  | { type: 'UNWRAP'; selector: string }
  /** Inside a string or after a binary operator argument: nothing to suggest. */
  | { type: 'NONE' };

interface Scan {
  /** Unclosed brackets, innermost last, with the text position of each. */
  stack: Array<{ ch: '{' | '(' | '['; at: number }>;
  /** Open string when the text ends inside one: its start. */
  openString?: number;
  /** The last complete stream selector's text. */
  lastSelector: string;
}

function scan(text: string): Scan {
  const stack: Scan['stack'] = [];
  let lastSelector = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"' || c === '`') {
      const start = i;
      i++;
      while (i < text.length && text[i] !== c) {
        i += c === '"' && text[i] === '\\' ? 2 : 1;
      }
      if (i >= text.length) {
        return { stack, openString: start, lastSelector };
      }
      i++;
      continue;
    }
    if (c === '#') {
      const nl = text.indexOf('\n', i);
      if (nl < 0) {
        return { stack, openString: i, lastSelector };
      }
      i = nl + 1;
      continue;
    }
    if (c === '{' || c === '(' || c === '[') {
      stack.push({ ch: c, at: i });
    } else if (c === '}' || c === ')' || c === ']') {
      const open = stack.pop();
      if (c === '}' && open?.ch === '{') {
        lastSelector = text.slice(open.at, i + 1);
      }
    }
    i++;
  }
  return { stack, lastSelector };
}

const MATCHER_RE = /([A-Za-z_][\w]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|`[^`]*`)/g;

function otherMatchers(inner: string): OtherMatcher[] {
  const out: OtherMatcher[] = [];
  for (const m of inner.matchAll(MATCHER_RE)) {
    const raw = m[3];
    const value = raw.startsWith('`') ? raw.slice(1, -1) : raw.slice(1, -1).replace(/\\(.)/g, '$1');
    out.push({ name: m[1], op: m[2], value });
  }
  return out;
}

/** The text after the cursor up to the end of the selector, without the item being typed. */
function restOfSelector(full: string, cursor: number): string {
  const closing = full.indexOf('}', cursor);
  const rest = full.slice(cursor, closing >= 0 ? closing : full.length);
  const comma = rest.indexOf(',');
  return comma >= 0 ? rest.slice(comma + 1) : '';
}

function inSelector(text: string, open: number, full: string, cursor: number, openString?: number): Situation {
  const inner = text.slice(open + 1);
  const after = otherMatchers(restOfSelector(full, cursor));
  if (openString !== undefined) {
    const head = text.slice(open + 1, openString);
    const m = /([A-Za-z_][\w]*)\s*(=~|!~|!=|=)\s*$/.exec(head);
    if (!m) {
      return { type: 'NONE' };
    }
    const others = [...otherMatchers(head.slice(0, m.index)), ...after];
    return { type: 'LABEL_VALUE', labelName: m[1], op: m[2], inQuotes: true, otherLabels: others };
  }
  const op = /([A-Za-z_][\w]*)\s*(=~|!~|!=|=)\s*$/.exec(inner);
  if (op) {
    const others = [...otherMatchers(inner.slice(0, op.index)), ...after];
    return { type: 'LABEL_VALUE', labelName: op[1], op: op[2], inQuotes: false, otherLabels: others };
  }
  if (/(^|,)\s*[A-Za-z_]?[\w]*$/.test(inner)) {
    return { type: 'LABEL_NAME', otherLabels: [...otherMatchers(inner), ...after] };
  }
  return { type: 'NONE' };
}

const RANGE_FUNCTION_BEFORE_PAREN = /(rate|count_over_time|bytes_rate|bytes_over_time|avg_over_time|sum_over_time|min_over_time|max_over_time|stddev_over_time|stdvar_over_time|quantile_over_time|first_over_time|last_over_time|absent_over_time|rate_counter)\s*$/;

/**
 * Analyses the text before the cursor (offset into text) and says what may be typed there.
 */
export function getSituation(text: string, offset: number): Situation {
  const before = text.slice(0, offset);
  const s = scan(before);
  const top = s.stack[s.stack.length - 1];
  if (top?.ch === '{') {
    return inSelector(before, top.at, text, offset, s.openString);
  }
  if (s.openString !== undefined) {
    return { type: 'NONE' };
  }
  if (top?.ch === '[') {
    return { type: 'RANGE' };
  }
  const tail = before.slice(top ? top.at + 1 : 0);
  if (top?.ch === '(' && /\b(by|without)\s*$/.test(before.slice(0, top.at))) {
    return { type: 'GROUPING', selector: s.lastSelector };
  }
  if (/\|\s*unwrap\s+(?:[\w]*)$/.test(tail)) {
    return { type: 'UNWRAP', selector: s.lastSelector };
  }
  const inRangeFunction = top?.ch === '(' && RANGE_FUNCTION_BEFORE_PAREN.test(before.slice(0, top.at));
  // After a complete selector: the text since it ends holds stages, the cursor after a space or |.
  const selEnd = tail.lastIndexOf('}');
  const rest = tail.slice(selEnd + 1);
  if (selEnd >= 0 && !/[\])]/.test(rest.replace(/"(?:[^"\\]|\\.)*"|`[^`]*`/g, '""'))) {
    if (/\|\s*[a-z_]*$/.test(rest)) {
      return { type: 'AFTER_SELECTOR', selector: s.lastSelector, afterPipe: true, inRangeFunction };
    }
    if (rest === '' || /\s$/.test(rest)) {
      return { type: 'AFTER_SELECTOR', selector: s.lastSelector, afterPipe: false, inRangeFunction };
    }
    return { type: 'NONE' };
  }
  if (/(^|[(,+\-*/%^]|\b(and|or|unless|by|without)\b)\s*[a-z_]*$/.test(tail) || /^\s*[a-z_]*$/.test(tail)) {
    return { type: 'EXPRESSION' };
  }
  return { type: 'NONE' };
}
