// Annotations from log lines: every row of a log query becomes an annotation, titled and
// tagged from its labels.
import { AnnotationEvent, DataFrame } from '@grafana/data';

import { LodeAnnotationQuery } from '../types';

function renderTemplate(template: string, labels: Record<string, string>): string {
  return template.replace(/\{\{\s*([A-Za-z_][\w]*)\s*\}\}/g, (_m, name: string) => labels[name] ?? '');
}

function parseLabels(raw: unknown): Record<string, string> {
  if (typeof raw === 'string') {
    try {
      return JSON.parse(raw);
    } catch {
      return {};
    }
  }
  return (raw as Record<string, string>) ?? {};
}

/**
 * Turns logs frames into annotation events: time from the timestamp field, text from the line
 * (or textFormat), title from titleFormat, and tags from the values of the tagKeys labels.
 */
export function logsToAnnotations(frames: DataFrame[], q: Pick<LodeAnnotationQuery, 'tagKeys' | 'titleFormat' | 'textFormat'>): AnnotationEvent[] {
  const tagKeys = (q.tagKeys ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const out: AnnotationEvent[] = [];
  for (const frame of frames) {
    const time = frame.fields.find((f) => f.name === 'timestamp' || f.type === 'time');
    const body = frame.fields.find((f) => f.name === 'body' || f.name === 'Line');
    const labels = frame.fields.find((f) => f.name === 'labels');
    if (!time || !body) {
      continue;
    }
    for (let i = 0; i < frame.length; i++) {
      const l = parseLabels(labels?.values[i]);
      const line = String(body.values[i]);
      const t = time.values[i];
      out.push({
        time: typeof t === 'number' ? t : new Date(t).getTime(),
        title: q.titleFormat ? renderTemplate(q.titleFormat, l) : undefined,
        text: q.textFormat ? renderTemplate(q.textFormat, l) : line,
        tags: tagKeys.map((k) => l[k]).filter((v): v is string => Boolean(v)),
      });
    }
  }
  return out.sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
}
