// LogQL in the monaco editor Grafana provides: highlighting, completion and error markers.
// monaco-editor itself is never bundled; every function receives Grafana's instance.
import type { Monaco, MonacoEditor, monacoTypes } from '@grafana/ui';

import { getSituation } from '../../logql/completion/situation';
import { Completion, CompletionData, getCompletions } from '../../logql/completion/suggestions';
import { Marker } from '../../resources';

export const LANGUAGE_ID = 'lode-logql';
export const MARKER_OWNER = 'lode-validate';

const keywords = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless'];
const functions = [
  'rate', 'count_over_time', 'bytes_rate', 'bytes_over_time', 'absent_over_time', 'sum_over_time', 'avg_over_time',
  'min_over_time', 'max_over_time', 'first_over_time', 'last_over_time', 'stddev_over_time', 'stdvar_over_time',
  'quantile_over_time', 'rate_counter', 'sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'topk', 'bottomk',
  'sort', 'sort_desc', 'vector', 'label_replace', 'approx_topk',
];
const stages = ['json', 'logfmt', 'pattern', 'regexp', 'unpack', 'line_format', 'label_format', 'decolorize', 'drop', 'keep', 'unwrap', 'ip', 'bytes', 'duration', 'duration_seconds'];

/** The monarch grammar of LogQL (tokens only; the parser lives in the plugin backend). */
export const monarchLanguage: monacoTypes.languages.IMonarchLanguage = {
  defaultToken: '',
  ignoreCase: false,
  keywords,
  functions,
  stages,
  tokenizer: {
    root: [
      [/#.*$/, 'comment'],
      [/\$__\w+|\$\{[^}]+\}|\$\w+|\[\[[^\]]+\]\]/, 'variable'],
      [/\{/, { token: 'delimiter.curly', next: '@selector' }],
      [/\[/, { token: 'delimiter.square', next: '@range' }],
      [/"/, { token: 'string.quote', next: '@string' }],
      [/`/, { token: 'string.quote', next: '@rawstring' }],
      [/\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w|y)\b/, 'number.duration'],
      [/\d+(?:\.\d+)?(?:[kKMGTP]i?)?[bB]\b/, 'number.bytes'],
      [/\d+(?:\.\d+)?(?:e[+-]?\d+)?/, 'number'],
      [/\|=|!=|\|~|!~|\|>|!>/, 'operator.filter'],
      [/\|/, 'operator.pipe'],
      [/==|>=|<=|=~|[=<>+\-*/%^]/, 'operator'],
      [
        /[a-zA-Z_]\w*/,
        { cases: { '@keywords': 'keyword', '@functions': 'predefined', '@stages': 'type', '@default': 'identifier' } },
      ],
      [/[(),]/, 'delimiter'],
      [/\s+/, 'white'],
    ],
    selector: [
      [/\}/, { token: 'delimiter.curly', next: '@pop' }],
      [/[a-zA-Z_]\w*/, 'attribute.name'],
      [/=~|!~|!=|=/, 'operator'],
      [/"/, { token: 'string.quote', next: '@string' }],
      [/`/, { token: 'string.quote', next: '@rawstring' }],
      [/,/, 'delimiter'],
      [/\s+/, 'white'],
    ],
    range: [
      [/\]/, { token: 'delimiter.square', next: '@pop' }],
      [/\$__\w+|\$\{[^}]+\}|\$\w+/, 'variable'],
      [/\d+(?:ms|s|m|h|d|w|y)/, 'number.duration'],
      [/[^\]]+/, 'invalid'],
    ],
    string: [
      [/\\./, 'string.escape'],
      [/\$__\w+|\$\{[^}]+\}|\$\w+/, 'variable'],
      [/[^\\"$]+/, 'string'],
      [/\$/, 'string'],
      [/"/, { token: 'string.quote', next: '@pop' }],
    ],
    rawstring: [
      [/[^`]+/, 'string'],
      [/`/, { token: 'string.quote', next: '@pop' }],
    ],
  },
};

export const languageConfiguration: monacoTypes.languages.LanguageConfiguration = {
  wordPattern: /(-?\d*\.\d\w*)|([^`~!#%^&*()\-=+[{\]}\\|;:'",.<>/?\s]+)/g,
  comments: { lineComment: '#' },
  brackets: [
    ['{', '}'],
    ['[', ']'],
    ['(', ')'],
  ],
  autoClosingPairs: [
    { open: '{', close: '}' },
    { open: '[', close: ']' },
    { open: '(', close: ')' },
    { open: '"', close: '"', notIn: ['string'] },
    { open: '`', close: '`', notIn: ['string'] },
  ],
  surroundingPairs: [
    { open: '{', close: '}' },
    { open: '(', close: ')' },
    { open: '"', close: '"' },
  ],
};

/** Registers the LogQL language once per monaco instance. */
export function ensureLanguage(monaco: Monaco): void {
  if (monaco.languages.getLanguages().some((l) => l.id === LANGUAGE_ID)) {
    return;
  }
  monaco.languages.register({ id: LANGUAGE_ID });
  monaco.languages.setMonarchTokensProvider(LANGUAGE_ID, monarchLanguage);
  monaco.languages.setLanguageConfiguration(LANGUAGE_ID, languageConfiguration);
}

function kindOf(monaco: Monaco, c: Completion): monacoTypes.languages.CompletionItemKind {
  const k = monaco.languages.CompletionItemKind;
  switch (c.kind) {
    case 'function':
      return k.Function;
    case 'label':
      return k.Field;
    case 'value':
      return k.Value;
    case 'keyword':
      return k.Keyword;
    case 'operator':
      return k.Operator;
    case 'duration':
      return k.Unit;
    default:
      return k.Snippet;
  }
}

/** The columns a completion replaces: the word at the cursor, or a quoted value typed so far. */
export function replaceRange(lineBefore: string, column: number, wordStart: number, inQuotes: boolean): { startColumn: number; endColumn: number } {
  if (!inQuotes) {
    return { startColumn: wordStart, endColumn: column };
  }
  let quote = -1;
  for (let i = 0; i < lineBefore.length; i++) {
    if (lineBefore[i] === '\\') {
      i++;
    } else if (lineBefore[i] === '"') {
      quote = quote >= 0 ? -1 : i;
    }
  }
  return { startColumn: quote >= 0 ? quote + 2 : wordStart, endColumn: column };
}

/**
 * Registers LogQL completion for one editor (providers are global per language, so the provider
 * answers only for this editor's model). Dispose the result when the editor unmounts.
 */
export function registerCompletion(monaco: Monaco, editor: MonacoEditor, data: CompletionData): monacoTypes.IDisposable {
  return monaco.languages.registerCompletionItemProvider(LANGUAGE_ID, {
    triggerCharacters: ['{', ',', '=', '~', '"', '|', ' ', '(', '['],
    provideCompletionItems: async (model, position) => {
      if (model.id !== editor.getModel()?.id) {
        return { suggestions: [] };
      }
      const situation = getSituation(model.getValue(), model.getOffsetAt(position));
      let items: Completion[] = [];
      try {
        items = await getCompletions(situation, data);
      } catch {
        items = [];
      }
      const word = model.getWordUntilPosition(position);
      const lineBefore = model.getLineContent(position.lineNumber).slice(0, position.column - 1);
      const cols = replaceRange(lineBefore, position.column, word.startColumn, situation.type === 'LABEL_VALUE' && situation.inQuotes);
      const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, ...cols };
      const suggestions = items.map((c, i) => ({
        label: c.label,
        kind: kindOf(monaco, c),
        insertText: c.insertText,
        insertTextRules: c.snippet ? monaco.languages.CompletionItemInsertTextRule.InsertAsSnippet : undefined,
        detail: c.detail,
        documentation: c.documentation,
        range,
        sortText: String(i).padStart(5, '0'),
        command: c.triggerSuggest ? { id: 'editor.action.triggerSuggest', title: '' } : undefined,
      }));
      return { suggestions };
    },
  });
}

/** Shows a validation error as a marker (or clears markers when there is none). */
export function setValidationMarker(monaco: Monaco, editor: MonacoEditor, marker: Marker | undefined): void {
  const model = editor.getModel();
  if (!model) {
    return;
  }
  const markers = marker ? [{ ...marker, severity: monaco.MarkerSeverity.Error }] : [];
  monaco.editor.setModelMarkers(model, MARKER_OWNER, markers);
}
