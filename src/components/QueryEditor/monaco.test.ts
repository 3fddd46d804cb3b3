import type { Monaco, MonacoEditor } from '@grafana/ui';

import { LANGUAGE_ID, ensureLanguage, registerCompletion, replaceRange, setValidationMarker } from './monaco';

// A fake of the parts of monaco the glue uses.
function fakeMonaco() {
  const registered: string[] = [];
  let provider: { provideCompletionItems: Function; triggerCharacters: string[] } | undefined;
  const markers: unknown[] = [];
  const monaco = {
    languages: {
      getLanguages: () => registered.map((id) => ({ id })),
      register: ({ id }: { id: string }) => registered.push(id),
      setMonarchTokensProvider: jest.fn(),
      setLanguageConfiguration: jest.fn(),
      registerCompletionItemProvider: (_lang: string, p: typeof provider) => {
        provider = p;
        return { dispose: jest.fn() };
      },
      CompletionItemKind: { Function: 1, Field: 3, Value: 4, Keyword: 5, Operator: 6, Unit: 7, Snippet: 8 },
      CompletionItemInsertTextRule: { InsertAsSnippet: 4 },
    },
    editor: { setModelMarkers: (_m: unknown, owner: string, ms: unknown[]) => markers.push({ owner, ms }) },
    MarkerSeverity: { Error: 8 },
  };
  return { monaco: monaco as unknown as Monaco, registered, markers, provider: () => provider! };
}

function model(text: string, id = 'm1') {
  return {
    id,
    getValue: () => text,
    getOffsetAt: (p: { column: number }) => p.column - 1,
    getWordUntilPosition: (p: { column: number }) => {
      const before = text.slice(0, p.column - 1);
      const w = /[\w]*$/.exec(before)![0];
      return { startColumn: p.column - w.length, endColumn: p.column };
    },
    getLineContent: () => text,
  };
}

describe('monaco glue', () => {
  it('registers the language once', () => {
    const f = fakeMonaco();
    ensureLanguage(f.monaco);
    ensureLanguage(f.monaco);
    expect(f.registered).toEqual([LANGUAGE_ID]);
  });

  it('completes label values for its own editor only', async () => {
    const f = fakeMonaco();
    const m = model('{app="a');
    const editor = { getModel: () => m } as unknown as MonacoEditor;
    registerCompletion(f.monaco, editor, { labelNames: async () => [], labelValues: async () => ['api', 'web'] });
    const res = await f.provider().provideCompletionItems(m, { lineNumber: 1, column: 8 });
    expect(res.suggestions.map((s: { insertText: string }) => s.insertText)).toEqual(['api', 'web']);
    expect(res.suggestions[0].range).toEqual({ startLineNumber: 1, endLineNumber: 1, startColumn: 7, endColumn: 8 });
    const other = await f.provider().provideCompletionItems(model('{app="a', 'm2'), { lineNumber: 1, column: 8 });
    expect(other.suggestions).toEqual([]);
  });

  it('marks snippets and re-opens suggestions after a label name', async () => {
    const f = fakeMonaco();
    const m = model('{');
    registerCompletion(f.monaco, { getModel: () => m } as unknown as MonacoEditor, { labelNames: async () => ['app'], labelValues: async () => [] });
    const res = await f.provider().provideCompletionItems(m, { lineNumber: 1, column: 2 });
    expect(res.suggestions[0]).toMatchObject({ label: 'app', insertText: 'app=', command: { id: 'editor.action.triggerSuggest' } });
  });

  it('sets and clears the validation marker', () => {
    const f = fakeMonaco();
    const editor = { getModel: () => ({}) } as unknown as MonacoEditor;
    setValidationMarker(f.monaco, editor, { message: 'bad', startLineNumber: 1, startColumn: 2, endLineNumber: 1, endColumn: 3 });
    setValidationMarker(f.monaco, editor, undefined);
    expect(f.markers).toEqual([
      { owner: 'lode-validate', ms: [{ message: 'bad', startLineNumber: 1, startColumn: 2, endLineNumber: 1, endColumn: 3, severity: 8 }] },
      { owner: 'lode-validate', ms: [] },
    ]);
  });

  it.each([
    ['a word', '{app="api"} | js', 17, 15, false, [15, 17]],
    ['a quoted value', '{app="we', 9, 7, true, [7, 9]],
    ['a value after an escaped quote', '{a="x\\"y', 9, 8, true, [5, 9]],
  ])('replaces %s', (_name, line, column, wordStart, inQuotes, [start, end]) => {
    expect(replaceRange(line, column, wordStart, inQuotes)).toEqual({ startColumn: start, endColumn: end });
  });
});
