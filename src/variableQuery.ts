// Template variable queries: Lode's label names / label values queries, and the query strings
// of dashboards made with Grafana's Loki datasource.
import { MetricFindValue } from '@grafana/data';

import { LodeVariableQuery } from './types';

/** What a variable query needs to run. */
export interface LabelSource {
  labelNames(selector?: string): Promise<string[]>;
  labelValues(name: string, selector?: string): Promise<string[]>;
}

/**
 * Reads the variable query strings of dashboards made with Grafana's Loki datasource:
 * label_names(), label_values(label) and label_values({selector}, label).
 */
export function parseLegacyVariableQuery(text: string): LodeVariableQuery | undefined {
  const t = text.trim();
  if (/^label_names\(\s*\)$/.test(t)) {
    return { refId: 'LodeVariableQuery', type: 'labelNames' };
  }
  const m = /^label_values\(\s*(?:(\{.*\})\s*,\s*)?([A-Za-z_][\w]*)\s*\)$/s.exec(t);
  if (m) {
    return { refId: 'LodeVariableQuery', type: 'labelValues', label: m[2], stream: m[1] };
  }
  return undefined;
}

/**
 * The variable query of a saved variable: Lode's query object, or a query string saved by
 * Loki's datasource (label_names(), label_values(...)). Anything else asks for label names.
 */
export function normalizeVariableQuery(q: unknown): LodeVariableQuery {
  if (typeof q === 'string') {
    return parseLegacyVariableQuery(q) ?? { refId: 'LodeVariableQuery', type: 'labelNames' };
  }
  const obj = (q ?? {}) as Partial<LodeVariableQuery>;
  if (obj.type === 'labelNames' || obj.type === 'labelValues') {
    return { ...obj, refId: obj.refId || 'LodeVariableQuery', type: obj.type };
  }
  return { ...obj, refId: obj.refId || 'LodeVariableQuery', type: obj.label ? 'labelValues' : 'labelNames' };
}

/** Runs a variable query: label names, or the values of a label narrowed by a stream selector. */
export async function runVariableQuery(src: LabelSource, q: LodeVariableQuery, interpolate: (s: string) => string = (s) => s): Promise<MetricFindValue[]> {
  const stream = q.stream?.trim() ? interpolate(q.stream.trim()) : undefined;
  if (q.type === 'labelNames') {
    return (await src.labelNames(stream)).filter((n) => !n.startsWith('__')).map((text) => ({ text }));
  }
  if (!q.label) {
    return [];
  }
  return (await src.labelValues(interpolate(q.label), stream)).map((text) => ({ text }));
}
