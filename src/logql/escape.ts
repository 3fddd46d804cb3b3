// Escaping of values placed into LogQL text.

/** Escapes a value for a double-quoted LogQL string ("..."): backslash, quote and newlines. */
export function escapeString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}

/** Quotes a value as a LogQL string literal. */
export function quote(value: string): string {
  return `"${escapeString(value)}"`;
}

/** Reads the value of a LogQL string literal ("..." with escapes, or `...` raw). */
export function unquote(literal: string): string {
  if (literal.length >= 2 && literal.startsWith('`') && literal.endsWith('`')) {
    return literal.slice(1, -1);
  }
  if (literal.length < 2 || !literal.startsWith('"') || !literal.endsWith('"')) {
    return literal;
  }
  const body = literal.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\' || i === body.length - 1) {
      out += c;
      continue;
    }
    const n = body[++i];
    out += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n;
  }
  return out;
}

/** Escapes regex metacharacters (RE2 syntax) so that the value matches only itself. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|{}[\]]/g, '\\$&');
}

/** The text to put between the quotes of a matcher with operator op, for a literal value. */
export function matcherValueText(op: string, value: string): string {
  return escapeString(op === '=~' || op === '!~' ? escapeRegex(value) : value);
}
