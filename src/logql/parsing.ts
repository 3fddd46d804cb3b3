// Reading LogQL with Grafana's published lezer grammar (@grafana/lezer-logql): where the stream
// selectors, matchers and pipeline stages of a query are, for query modification and hints.
import { SyntaxNode, Tree } from '@lezer/common';
import {
  parser,
  Selector,
  Matcher,
  Identifier,
  String as StringNode,
  LogExpr,
  LogRangeExpr,
  PipelineStage,
  PipelineExpr,
  LabelFilter,
  LabelParser,
  JsonExpressionParser,
  LogfmtParser,
  LogfmtExpressionParser,
  LineFilters,
  Range,
  MetricExpr,
  Expr,
  LogQL,
} from '@grafana/lezer-logql';

import { unquote } from './escape';

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One label matcher of a stream selector or label filter, with its position in the text. */
export interface MatcherInfo {
  name: string;
  op: MatchOp;
  value: string;
  from: number;
  to: number;
}

export interface SelectorInfo {
  from: number;
  to: number;
  matchers: MatcherInfo[];
}

export type StageKind = 'lineFilter' | 'parser' | 'labelFilter' | 'format' | 'other';

export interface StageInfo {
  kind: StageKind;
  from: number;
  to: number;
  /** For label filter stages made of matchers only: those matchers. */
  matchers?: MatcherInfo[];
  /** For a label filter stage: false when it mixes in numeric, duration or ip filters. */
  simple?: boolean;
}

/** A log expression: a selector and its pipeline (inside a metric query, a log range). */
export interface LogExprInfo {
  selector: SelectorInfo;
  stages: StageInfo[];
  /** Where the pipeline ends: a new stage goes here. */
  end: number;
  /** The whole log expression without its range, e.g. {a="b"} | json. */
  from: number;
}

const cache = new Map<string, Tree>();

/** Parses expr, keeping the last few trees (the editor asks several times per keystroke). */
export function parse(expr: string): Tree {
  let t = cache.get(expr);
  if (!t) {
    t = parser.parse(expr);
    if (cache.size > 20) {
      cache.clear();
    }
    cache.set(expr, t);
  }
  return t;
}

/** Reports whether the query has a syntax error. */
export function hasSyntaxError(expr: string): boolean {
  let err = false;
  parse(expr).iterate({
    enter: (n) => {
      if (n.type.isError) {
        err = true;
      }
      return !err;
    },
  });
  return err;
}

/** Reports whether expr selects log lines (rather than computing a metric). */
export function isLogsQuery(expr: string): boolean {
  const top = parse(expr).topNode.getChild(Expr);
  if (top && top.firstChild) {
    return top.firstChild.type.id === LogExpr;
  }
  return expr.trim().startsWith('{');
}

function opOf(node: SyntaxNode, text: string): MatchOp | undefined {
  const op = text.slice(node.from, node.to);
  return op === '=' || op === '!=' || op === '=~' || op === '!~' ? op : undefined;
}

function matcherInfo(m: SyntaxNode, text: string): MatcherInfo | undefined {
  const id = m.getChild(Identifier);
  const str = m.getChild(StringNode);
  if (!id || !str || !id.nextSibling) {
    return undefined;
  }
  const op = opOf(id.nextSibling, text);
  if (!op) {
    return undefined;
  }
  return { name: text.slice(id.from, id.to), op, value: unquote(text.slice(str.from, str.to)), from: m.from, to: m.to };
}

function selectorInfo(sel: SyntaxNode, text: string): SelectorInfo {
  const matchers: MatcherInfo[] = [];
  const cursor = sel.cursor();
  cursor.iterate((n) => {
    if (n.type.id === Matcher) {
      const mi = matcherInfo(n.node, text);
      if (mi) {
        matchers.push(mi);
      }
      return false;
    }
    return true;
  });
  return { from: sel.from, to: sel.to, matchers };
}

/** Every stream selector of the query, in text order. */
export function selectors(expr: string): SelectorInfo[] {
  const out: SelectorInfo[] = [];
  parse(expr).iterate({
    enter: (n) => {
      if (n.type.id === Selector) {
        out.push(selectorInfo(n.node, expr));
        return false;
      }
      return true;
    },
  });
  return out;
}

function stageKind(stage: SyntaxNode): StageKind {
  const inner = stage.getChild(LineFilters) ? stage.getChild(LineFilters) : stage.lastChild;
  switch (inner?.type.id) {
    case LineFilters:
      return 'lineFilter';
    case LabelParser:
    case JsonExpressionParser:
    case LogfmtParser:
    case LogfmtExpressionParser:
      return 'parser';
    case LabelFilter:
      return 'labelFilter';
    default:
      return inner?.name === 'LineFormatExpr' || inner?.name === 'LabelFormatExpr' ? 'format' : 'other';
  }
}

function stageInfo(stage: SyntaxNode, text: string): StageInfo {
  const kind = stageKind(stage);
  const info: StageInfo = { kind, from: stage.from, to: stage.to };
  if (kind === 'labelFilter') {
    const matchers: MatcherInfo[] = [];
    let simple = true;
    stage.lastChild!.cursor().iterate((n) => {
      if (n.type.id === Matcher) {
        const mi = matcherInfo(n.node, text);
        if (mi) {
          matchers.push(mi);
        }
        return false;
      }
      if (n.name === 'NumberFilter' || n.name === 'UnitFilter' || n.name === 'IpLabelFilter') {
        simple = false;
        return false;
      }
      return true;
    });
    info.matchers = matchers;
    info.simple = simple;
  }
  return info;
}

function pipelineStages(pipeline: SyntaxNode | null, text: string): StageInfo[] {
  const out: StageInfo[] = [];
  if (!pipeline) {
    return out;
  }
  pipeline.cursor().iterate((n) => {
    if (n.type.id === PipelineStage) {
      out.push(stageInfo(n.node, text));
      return false;
    }
    return n.type.id === PipelineExpr;
  });
  return out;
}

/** Every log expression of the query (the query itself, or the log ranges of a metric query). */
export function logExpressions(expr: string): LogExprInfo[] {
  const out: LogExprInfo[] = [];
  parse(expr).iterate({
    enter: (n) => {
      if (n.type.id !== LogExpr && n.type.id !== LogRangeExpr) {
        return true;
      }
      const sel = n.node.getChild(Selector);
      if (!sel) {
        return false;
      }
      const stages = n.node.getChildren(PipelineExpr).flatMap((p) => pipelineStages(p, expr));
      const last = stages.length ? stages[stages.length - 1].to : sel.to;
      const range = n.node.getChild(Range);
      // In {a="b"}[5m] | json the pipeline follows the range; otherwise it ends before the range.
      const end = range && stages.length === 0 ? sel.to : last;
      out.push({ selector: selectorInfo(sel, expr), stages, end, from: n.from });
      return false;
    },
  });
  return out;
}

/** The first log expression of a query without range or aggregation ({a="b"} |= "x" | json). */
export function innerLogQuery(expr: string): string | undefined {
  const les = logExpressions(expr);
  if (les.length === 0) {
    return undefined;
  }
  const le = les[0];
  return expr.slice(le.from, le.end).trim();
}

/** Names of the parsers a query uses (json, logfmt, pattern, regexp, unpack). */
export function parsersOf(expr: string): string[] {
  const out: string[] = [];
  for (const le of logExpressions(expr)) {
    for (const s of le.stages) {
      if (s.kind === 'parser') {
        out.push(expr.slice(s.from, s.to).replace(/^\|\s*/, '').split(/\s/)[0]);
      }
    }
  }
  return out;
}

/** Reports whether the query is a metric query whose log ranges could be shown as logs. */
export function isMetricQuery(expr: string): boolean {
  const top = parse(expr).topNode;
  return top.type.id === LogQL && top.getChild(Expr)?.firstChild?.type.id === MetricExpr;
}
