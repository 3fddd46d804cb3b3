// Supplementary queries that Explore runs next to a query: logs volume (a histogram of lines by
// level) for log queries, and a logs sample (some of the lines behind it) for metric queries.
import { isLogsQuery, innerLogQuery, hasSyntaxError } from './parsing';
import { LodeQuery, LodeQueryType, SupportingQueryType } from '../types';

export const DEFAULT_SAMPLE_LINES = 100;

/**
 * The logs volume query of a log query, or undefined for metric, live or invalid queries. The
 * expression is sent as it is, marked logsVolume; the plugin backend turns it into
 * sum by (level) (count_over_time(<expr> [$__auto])).
 */
export function logsVolumeQuery(q: LodeQuery): LodeQuery | undefined {
  const expr = q.expr?.trim();
  if (!expr || q.queryType === LodeQueryType.Stream || !isLogsQuery(expr) || hasSyntaxError(expr)) {
    return undefined;
  }
  return {
    refId: `log-volume-${q.refId}`,
    datasource: q.datasource,
    expr,
    queryType: LodeQueryType.Range,
    supportingQueryType: SupportingQueryType.LogsVolume,
  };
}

/**
 * The logs sample query of a metric query: its first log expression, without range and
 * aggregation, limited to `limit` lines. Undefined for log queries and invalid queries.
 */
export function logsSampleQuery(q: LodeQuery, limit = DEFAULT_SAMPLE_LINES): LodeQuery | undefined {
  const expr = q.expr?.trim();
  if (!expr || isLogsQuery(expr) || hasSyntaxError(expr)) {
    return undefined;
  }
  const inner = innerLogQuery(expr);
  if (!inner) {
    return undefined;
  }
  return {
    refId: `log-sample-${q.refId}`,
    datasource: q.datasource,
    expr: inner,
    queryType: LodeQueryType.Range,
    maxLines: limit,
    supportingQueryType: SupportingQueryType.LogsSample,
  };
}
