import { CustomVariableSupport, DataQueryRequest, DataQueryResponse, MetricFindValue } from '@grafana/data';
import { Observable, from, map } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor/VariableQueryEditor';
import type { LodeDatasource } from './datasource';
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

/** Template variables of Lode: label names and label values, with their own editor. */
export class LodeVariableSupport extends CustomVariableSupport<LodeDatasource, LodeVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: LodeDatasource) {
    super();
  }

  query(request: DataQueryRequest<LodeVariableQuery>): Observable<DataQueryResponse> {
    const q = request.targets[0];
    this.datasource.resources.setRange(request.range);
    const interpolate = (s: string) => this.datasource.interpolate(s, request.scopedVars);
    return from(runVariableQuery(this.datasource.resources, q, interpolate)).pipe(map((data) => ({ data })));
  }
}
