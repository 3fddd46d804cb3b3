import {
  AbstractQuery,
  AdHocVariableFilter,
  AnnotationQuery,
  CoreApp,
  DataFrame,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceInstanceSettings,
  DataSourceWithLogsContextSupport,
  DataSourceWithLogsLabelTypesSupport,
  DataSourceWithQueryExportSupport,
  DataSourceWithQueryImportSupport,
  DataSourceWithQueryModificationSupport,
  DataSourceWithSupplementaryQueriesSupport,
  DataSourceWithToggleableQueryFiltersSupport,
  LogRowContextOptions,
  LogRowContextQueryDirection,
  LogRowModel,
  MetricFindValue,
  QueryFilterOptions,
  QueryFixAction,
  QueryHint,
  ScopedVars,
  StreamingFrameAction,
  SupplementaryQueryOptions,
  SupplementaryQueryType,
  ToggleFilterAction,
  dateTime,
} from '@grafana/data';
import { DataSourceWithBackend, TemplateSrv, getTemplateSrv } from '@grafana/runtime';
import { Observable, lastValueFrom, of } from 'rxjs';

import { AnnotationEditor } from './components/AnnotationEditor/AnnotationEditor';
import { exportLabelMatchers, importLabelMatchers } from './logql/abstract';
import { SUPPORTED_MODIFICATIONS, exprHasFilter, modifyExpr, queryHints, toggleFilterExpr } from './logql/actions';
import { logsToAnnotations } from './logql/annotations';
import { contextPlan, rowLabelTypes } from './logql/context';
import { applyAdHocFilters, formatVariableValue } from './logql/interpolate';
import { logsSampleQuery, logsVolumeQuery } from './logql/supplementary';
import { LodeResources } from './resources';
import {
  DEFAULT_CONTEXT_LINES,
  DEFAULT_MAX_LINES,
  DEFAULT_QUERY,
  LodeAnnotationQuery,
  LodeOptions,
  LodeQuery,
  LodeQueryType,
  LodeVariableQuery,
} from './types';
import { normalizeVariableQuery, parseLegacyVariableQuery, runVariableQuery } from './variableQuery';
import { LodeVariableSupport } from './variables';

const LABEL_TYPE_NAMES: Record<string, string> = { I: 'Indexed label', S: 'Structured metadata', P: 'Parsed label' };

/**
 * The Lode datasource. Queries run in the plugin backend (which talks to lode); this class only
 * prepares them and wires Grafana's features to the LogQL helpers in logql/.
 */
export class LodeDatasource
  extends DataSourceWithBackend<LodeQuery, LodeOptions>
  implements
    DataSourceWithLogsContextSupport<LodeQuery>,
    DataSourceWithSupplementaryQueriesSupport<LodeQuery>,
    DataSourceWithQueryImportSupport<LodeQuery>,
    DataSourceWithQueryExportSupport<LodeQuery>,
    DataSourceWithToggleableQueryFiltersSupport<LodeQuery>,
    DataSourceWithQueryModificationSupport<LodeQuery>,
    DataSourceWithLogsLabelTypesSupport
{
  readonly resources: LodeResources;
  readonly jsonData: LodeOptions;

  constructor(
    instanceSettings: DataSourceInstanceSettings<LodeOptions>,
    private readonly templateSrv: TemplateSrv = getTemplateSrv()
  ) {
    super(instanceSettings);
    this.jsonData = instanceSettings.jsonData ?? {};
    this.resources = new LodeResources(this);
    this.variables = new LodeVariableSupport(this);
    this.annotations = {
      QueryEditor: AnnotationEditor,
      prepareAnnotation: (json: AnnotationQuery<LodeAnnotationQuery>) => {
        // Annotations saved by older editors keep their expression at the top level.
        const legacy = json as AnnotationQuery<LodeAnnotationQuery> & { expr?: string };
        json.target = json.target ?? { refId: 'Anno', expr: legacy.expr ?? '', queryType: LodeQueryType.Range };
        return json;
      },
      processEvents: (anno: AnnotationQuery<LodeAnnotationQuery>, frames: DataFrame[]) => of(logsToAnnotations(frames, anno.target ?? {})),
    };
  }

  getDefaultQuery(_app: CoreApp): Partial<LodeQuery> {
    return { ...DEFAULT_QUERY };
  }

  /** Empty and hidden queries are not sent. */
  filterQuery(query: LodeQuery): boolean {
    return !query.hide && Boolean(query.expr?.trim());
  }

  getQueryDisplayText(query: LodeQuery): string {
    return query.expr ?? '';
  }

  /**
   * Runs the non-empty queries in the plugin backend. Explore's live mode turns every query into
   * a live tail, which the backend serves through Grafana Live.
   */
  query(request: DataQueryRequest<LodeQuery>): Observable<DataQueryResponse> {
    let targets = request.targets.filter((t) => this.filterQuery(t));
    if (request.liveStreaming) {
      targets = targets.map((t) => ({ ...t, queryType: LodeQueryType.Stream }));
    }
    return super.query({ ...request, targets });
  }

  /** Live tail frames keep the query's line limit. */
  streamOptionsProvider = (request: DataQueryRequest<LodeQuery>) => {
    const limit = Math.max(...request.targets.map((t) => t.maxLines ?? this.jsonData.maxLines ?? DEFAULT_MAX_LINES));
    return { maxLength: Number.isFinite(limit) ? limit : DEFAULT_MAX_LINES, action: StreamingFrameAction.Append };
  };

  /** Replaces template variables in LogQL text, escaping their values for LogQL strings. */
  interpolate(text: string, scopedVars?: ScopedVars): string {
    return this.templateSrv.replace(text, scopedVars, formatVariableValue);
  }

  applyTemplateVariables(query: LodeQuery, scopedVars: ScopedVars, filters?: AdHocVariableFilter[]): LodeQuery {
    const expr = applyAdHocFilters(this.interpolate(query.expr ?? '', scopedVars), filters);
    return {
      ...query,
      expr,
      legendFormat: query.legendFormat ? this.templateSrv.replace(query.legendFormat, scopedVars) : query.legendFormat,
      step: query.step ? this.templateSrv.replace(query.step, scopedVars) : query.step,
    };
  }

  // Log row context.

  private contextLimit(options?: LogRowContextOptions): number {
    return Math.max(options?.limit ?? 0, this.jsonData.contextLines ?? DEFAULT_CONTEXT_LINES);
  }

  async getLogRowContextQuery(row: LogRowModel, options?: LogRowContextOptions, query?: LodeQuery): Promise<LodeQuery | null> {
    const plan = contextPlan(row, options?.direction ?? LogRowContextQueryDirection.Backward, this.contextLimit(options), options?.timeWindowMs);
    return plan ? { ...plan.query, datasource: query?.datasource ?? this.getRef() } : null;
  }

  async getLogRowContext(row: LogRowModel, options?: LogRowContextOptions): Promise<DataQueryResponse> {
    const plan = contextPlan(row, options?.direction ?? LogRowContextQueryDirection.Backward, this.contextLimit(options), options?.timeWindowMs);
    if (!plan) {
      return { data: [] };
    }
    const from = dateTime(plan.from);
    const to = dateTime(plan.to);
    const request: DataQueryRequest<LodeQuery> = {
      app: CoreApp.Explore,
      requestId: `${plan.query.refId}-${row.uid}`,
      interval: '1s',
      intervalMs: 1000,
      range: { from, to, raw: { from, to } },
      scopedVars: options?.scopedVars ?? {},
      targets: [plan.query],
      timezone: 'UTC',
      startTime: Date.now(),
    };
    return lastValueFrom(this.query(request));
  }

  // Supplementary queries: logs volume and logs sample.

  getSupportedSupplementaryQueryTypes(): SupplementaryQueryType[] {
    return [SupplementaryQueryType.LogsVolume, SupplementaryQueryType.LogsSample];
  }

  getSupplementaryQuery(options: SupplementaryQueryOptions, query: LodeQuery): LodeQuery | undefined {
    if (query.hide) {
      return undefined;
    }
    return options.type === SupplementaryQueryType.LogsVolume ? logsVolumeQuery(query) : logsSampleQuery(query, options.limit);
  }

  getSupplementaryRequest(type: SupplementaryQueryType, request: DataQueryRequest<LodeQuery>, options?: SupplementaryQueryOptions): DataQueryRequest<LodeQuery> | undefined {
    const opts = options ?? ({ type } as SupplementaryQueryOptions);
    const targets = request.targets.map((t) => this.getSupplementaryQuery(opts, t)).filter((t): t is LodeQuery => Boolean(t));
    if (targets.length === 0) {
      return undefined;
    }
    return { ...request, targets, requestId: `${request.requestId}_${type}` };
  }

  // Metrics to logs (Explore's split view) and back.

  async importFromAbstractQueries(abstractQueries: AbstractQuery[]): Promise<LodeQuery[]> {
    let known: Set<string> | undefined;
    try {
      known = new Set(await this.resources.labelNames());
    } catch {
      known = undefined; // lode unreachable: keep the (mapped) labels rather than nothing
    }
    return abstractQueries.map((aq) => ({
      refId: aq.refId,
      expr: importLabelMatchers(aq.labelMatchers, this.jsonData.labelMapping, known).selector,
      queryType: LodeQueryType.Range,
    }));
  }

  async exportToAbstractQueries(queries: LodeQuery[]): Promise<AbstractQuery[]> {
    return queries.map((q) => ({ refId: q.refId, labelMatchers: exportLabelMatchers(q.expr ?? '', this.jsonData.labelMapping) }));
  }

  // Query modification from log details, hints and ad hoc filters.

  getSupportedQueryModifications(): string[] {
    return SUPPORTED_MODIFICATIONS;
  }

  modifyQuery(query: LodeQuery, action: QueryFixAction): LodeQuery {
    return { ...query, expr: modifyExpr(query.expr ?? '', action) };
  }

  toggleQueryFilter(query: LodeQuery, filter: ToggleFilterAction): LodeQuery {
    return { ...query, expr: toggleFilterExpr(query.expr ?? '', filter) };
  }

  queryHasFilter(query: LodeQuery, filter: QueryFilterOptions): boolean {
    return exprHasFilter(query.expr ?? '', filter.key ?? '', filter.value ?? '', filter.type === 'FILTER_OUT');
  }

  getQueryHints(query: LodeQuery, result: DataFrame[]): QueryHint[] {
    return queryHints(query.expr ?? '', result ?? []);
  }

  getLabelDisplayTypeFromFrame(labelKey: string, frame: DataFrame | undefined, index: number | null): string | null {
    const t = rowLabelTypes(frame, index)?.[labelKey];
    return t ? (LABEL_TYPE_NAMES[t] ?? null) : null;
  }

  // Ad hoc filters and template variables.

  async getTagKeys(): Promise<MetricFindValue[]> {
    return (await this.resources.labelNames()).filter((n) => !n.startsWith('__')).map((text) => ({ text }));
  }

  async getTagValues(options: { key: string }): Promise<MetricFindValue[]> {
    return (await this.resources.labelValues(options.key)).map((text) => ({ text }));
  }

  /** Variable queries of dashboards made with Loki: label_names(), label_values([selector,] label). */
  async metricFindQuery(query: string | LodeVariableQuery, options?: { scopedVars?: ScopedVars }): Promise<MetricFindValue[]> {
    if (typeof query === 'string' && !parseLegacyVariableQuery(query)) {
      return [];
    }
    const q = normalizeVariableQuery(query);
    return runVariableQuery(this.resources, q, (s) => this.interpolate(s, options?.scopedVars));
  }
}
