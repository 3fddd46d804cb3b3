import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

/** How a query runs: over the time range, at its end, or as a live tail. */
export enum LodeQueryType {
  Range = 'range',
  Instant = 'instant',
  Stream = 'stream',
}

export enum LodeDirection {
  Backward = 'backward',
  Forward = 'forward',
}

/** Queries Explore runs next to the user's query (sent as supportingQueryType). */
export enum SupportingQueryType {
  LogsVolume = 'logsVolume',
  LogsSample = 'logsSample',
}

/**
 * A Lode query. The field names are those of Grafana's Loki datasource, so that dashboards built
 * on Loki keep working when their datasource is switched to Lode.
 */
export interface LodeQuery extends DataQuery {
  expr: string;
  queryType?: LodeQueryType;
  maxLines?: number;
  direction?: LodeDirection;
  legendFormat?: string;
  /** A duration (30s, 1m) or $__interval / $__auto; empty: chosen from the interval. */
  step?: string;
  /** Step multiplier 1..5 (1/resolution of the interval), as in Loki's datasource. */
  resolution?: number;
  supportingQueryType?: SupportingQueryType;
}

export const DEFAULT_QUERY: Partial<LodeQuery> = {
  expr: '',
  queryType: LodeQueryType.Range,
  direction: LodeDirection.Backward,
};

export type AuthType = 'none' | 'basic' | 'bearer';

/** A regex over the line (or a label) whose value becomes a field with a data link. */
export interface DerivedFieldConfig {
  name: string;
  matcherType?: 'regex' | 'label';
  /** The regex (its first group is the value) or, for matcherType label, the label name. */
  matcherRegex: string;
  /** Link URL, or the query of an internal link; ${__value.raw} is the value. */
  url?: string;
  urlDisplayLabel?: string;
  /** Set for an internal link to another datasource (e.g. a tracing datasource). */
  datasourceUid?: string;
  targetBlank?: boolean;
}

/** Maps a metrics label to the logs label with the same meaning (metrics-to-logs jump). */
export interface LabelMapping {
  metricsLabel: string;
  logsLabel: string;
}

/** The datasource's jsonData, as the config editor saves it and the plugin backend reads it. */
export interface LodeOptions extends DataSourceJsonData {
  tenant?: string;
  authType?: AuthType;
  tlsSkipVerify?: boolean;
  tlsAuth?: boolean;
  tlsAuthWithCACert?: boolean;
  serverName?: string;
  /** Seconds. */
  timeout?: number;
  maxLines?: number;
  queryConcurrency?: number;
  derivedFields?: DerivedFieldConfig[];
  labelMapping?: LabelMapping[];
  /** Lines shown before and after a row in log context (frontend only). */
  contextLines?: number;
}

/** Secrets, kept by Grafana encrypted and only ever read by the plugin backend. */
export interface LodeSecureJsonData {
  basicAuthPassword?: string;
  bearerToken?: string;
  tlsCACert?: string;
  tlsClientCert?: string;
  tlsClientKey?: string;
}

export const DEFAULT_MAX_LINES = 1000;
export const DEFAULT_CONTEXT_LINES = 10;

/** A template variable query: label names, or the values of one label. */
export interface LodeVariableQuery extends DataQuery {
  type: 'labelNames' | 'labelValues';
  label?: string;
  /** Optional stream selector narrowing the values, e.g. {namespace="$namespace"}. */
  stream?: string;
}

/** An annotation query: log lines become annotations. */
export interface LodeAnnotationQuery extends LodeQuery {
  /** Comma-separated labels whose values become the annotation's tags. */
  tagKeys?: string;
  /** Title and text templates; {{label}} is replaced by the row's label value. */
  titleFormat?: string;
  textFormat?: string;
}

/** The answer of the plugin backend's validate resource (positions are 1-based). */
export interface ValidationResult {
  valid: boolean;
  kind?: 'logs' | 'metric';
  error?: string;
  message?: string;
  line?: number;
  column?: number;
}
