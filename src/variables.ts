import { CustomVariableSupport, DataQueryRequest, DataQueryResponse } from '@grafana/data';
import { Observable, from, map } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor/VariableQueryEditor';
import type { LodeDatasource } from './datasource';
import { LodeVariableQuery } from './types';
import { normalizeVariableQuery, runVariableQuery } from './variableQuery';

/** Template variables of Lode: label names and label values, with their own editor. */
export class LodeVariableSupport extends CustomVariableSupport<LodeDatasource, LodeVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: LodeDatasource) {
    super();
  }

  query(request: DataQueryRequest<LodeVariableQuery>): Observable<DataQueryResponse> {
    const q = normalizeVariableQuery(request.targets[0]);
    this.datasource.resources.setRange(request.range);
    const interpolate = (s: string) => this.datasource.interpolate(s, request.scopedVars);
    return from(runVariableQuery(this.datasource.resources, q, interpolate)).pipe(map((data) => ({ data })));
  }
}
