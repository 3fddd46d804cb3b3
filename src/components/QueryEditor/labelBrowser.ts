// The label browser's selection turned into LogQL.
import { escapeRegex, escapeString } from '../../logql/escape';

/** Selected values per label; a label with no value selected is left out. */
export type Selection = Record<string, string[]>;

/**
 * Builds a stream selector from the selection: one value gives name="value", several give
 * name=~"v1|v2" with each value regex-escaped. Labels are sorted; '' when nothing is selected.
 */
export function buildSelector(sel: Selection): string {
  const parts = Object.keys(sel)
    .filter((k) => sel[k].length > 0)
    .sort()
    .map((k) => {
      const values = [...new Set(sel[k])].sort();
      return values.length === 1 ? `${k}="${escapeString(values[0])}"` : `${k}=~"${escapeString(values.map(escapeRegex).join('|'))}"`;
    });
  return parts.length ? `{${parts.join(', ')}}` : '';
}

/** The selection without one label, to narrow that label's values by all the others. */
export function selectorWithout(sel: Selection, label: string): string | undefined {
  const rest: Selection = { ...sel };
  delete rest[label];
  return buildSelector(rest) || undefined;
}
