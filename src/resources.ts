// The editor's view of the plugin backend's resources (label names, label values, series,
// query validation), cached briefly so that typing does not flood lode.
import { TimeRange } from '@grafana/data';

import { CompletionData } from './logql/completion/suggestions';
import { ValidationResult } from './types';

/** What LodeResources needs from the datasource: DataSourceWithBackend.getResource. */
export interface ResourceGetter {
  getResource<T = unknown>(path: string, params?: Record<string, string | undefined>): Promise<T>;
}

interface LodeListResponse {
  status?: string;
  data?: string[];
}

/** How long label names and values are reused. */
export const CACHE_TTL_MS = 60_000;
/** Range used when the editor has no time range (e.g. the variable editor): the last hour. */
export const DEFAULT_RANGE_MS = 60 * 60 * 1000;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function nanos(ms: number): string {
  return `${Math.floor(ms)}000000`;
}

export class LodeResources implements CompletionData {
  private cache = new Map<string, { at: number; value: Promise<unknown> }>();
  private range?: { from: number; to: number };

  constructor(
    private readonly api: ResourceGetter,
    private readonly now: () => number = Date.now
  ) {}

  /** Sets the time range label queries look at. */
  setRange(range?: TimeRange): void {
    this.range = range ? { from: range.from.valueOf(), to: range.to.valueOf() } : undefined;
  }

  private timeParams(): { start: string; end: string } {
    const to = this.range?.to ?? this.now();
    const from = this.range?.from ?? to - DEFAULT_RANGE_MS;
    // Rounded to the minute, so that cached answers are reused while time moves on.
    const round = (ms: number) => Math.floor(ms / 60_000) * 60_000;
    return { start: nanos(round(from)), end: nanos(round(to) + 60_000) };
  }

  private cached<T>(path: string, params: Record<string, string | undefined>): Promise<T> {
    const key = `${path}?${JSON.stringify(params)}`;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < CACHE_TTL_MS) {
      return hit.value as Promise<T>;
    }
    const value = this.api.getResource<T>(path, params);
    this.cache.set(key, { at: this.now(), value });
    // A failed call is not remembered.
    value.catch(() => this.cache.delete(key));
    return value;
  }

  /** Label names in the time range, optionally of the streams a selector matches. */
  async labelNames(selector?: string): Promise<string[]> {
    const res = await this.cached<LodeListResponse>('labels', { ...this.timeParams(), query: selector });
    return [...(res?.data ?? [])].sort();
  }

  /** Values of a label in the time range, optionally of the streams a selector matches. */
  async labelValues(name: string, selector?: string): Promise<string[]> {
    if (!LABEL_NAME.test(name)) {
      return [];
    }
    const res = await this.cached<LodeListResponse>(`label/${name}/values`, { ...this.timeParams(), query: selector });
    return [...(res?.data ?? [])].sort();
  }

  /** Label sets of the streams a selector matches. */
  async series(selector: string): Promise<Array<Record<string, string>>> {
    const res = await this.cached<{ data?: Array<Record<string, string>> }>('series', { ...this.timeParams(), 'match[]': selector });
    return res?.data ?? [];
  }

  /** Parses a query with lode's own LogQL parser (never cached: the text changes). */
  async validate(expr: string): Promise<ValidationResult> {
    return this.api.getResource<ValidationResult>('validate', { query: expr });
  }
}

/** A marker for an editor: 1-based line and columns. */
export interface Marker {
  message: string;
  startLineNumber: number;
  startColumn: number;
  endLineNumber: number;
  endColumn: number;
}

/**
 * The editor marker of a validation error: at the reported position, spanning the word there
 * (at least one character); at the end of the text when the error has no position.
 */
export function validationMarker(res: ValidationResult, text: string): Marker | undefined {
  if (res.valid) {
    return undefined;
  }
  const lines = text.split('\n');
  const line = Math.min(Math.max(res.line ?? lines.length, 1), lines.length);
  const lineText = lines[line - 1];
  const col = Math.min(Math.max(res.column ?? lineText.length + 1, 1), lineText.length + 1);
  const word = /^[\w.$]+/.exec(lineText.slice(col - 1));
  return {
    message: res.message || res.error || 'invalid query',
    startLineNumber: line,
    startColumn: col,
    endLineNumber: line,
    endColumn: col + Math.max(word?.[0].length ?? 1, 1),
  };
}
