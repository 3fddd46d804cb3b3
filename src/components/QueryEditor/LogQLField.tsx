import { css } from '@emotion/css';
import React, { useCallback, useEffect, useRef, useState } from 'react';

import { GrafanaTheme2 } from '@grafana/data';
import { CodeEditor, Monaco, MonacoEditor, useStyles2 } from '@grafana/ui';

import { CompletionData } from '../../logql/completion/suggestions';
import { Marker, validationMarker } from '../../resources';
import { ValidationResult } from '../../types';
import { LANGUAGE_ID, ensureLanguage, registerCompletion, setValidationMarker } from './monaco';

const LINE_HEIGHT = 20;

export interface Validator {
  validate(expr: string): Promise<ValidationResult>;
}

export interface LogQLFieldProps {
  value: string;
  /** Called with the text when the editor loses focus or the query is run. */
  onChange: (value: string) => void;
  onRunQuery?: () => void;
  data: CompletionData & Validator;
  /** Delay between the last keystroke and the validation request. */
  validateDelayMs?: number;
}

/**
 * The LogQL code editor: highlighting, completion of labels, values, stages and functions,
 * and inline syntax errors from lode's own parser (the plugin backend's validate resource).
 * Shift+Enter runs the query.
 */
export function LogQLField({ value, onChange, onRunQuery, data, validateDelayMs = 400 }: LogQLFieldProps) {
  const styles = useStyles2(getStyles);
  const [error, setError] = useState<Marker | undefined>();
  const [lines, setLines] = useState(() => value.split('\n').length);
  const editorRef = useRef<{ editor: MonacoEditor; monaco: Monaco } | undefined>(undefined);
  const disposers = useRef<Array<() => void>>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef({ onChange, onRunQuery, data });
  useEffect(() => {
    latest.current = { onChange, onRunQuery, data };
  });

  const validate = useCallback(
    (text: string) => {
      clearTimeout(timer.current);
      timer.current = setTimeout(async () => {
        let marker: Marker | undefined;
        if (text.trim()) {
          try {
            marker = validationMarker(await latest.current.data.validate(text), text);
          } catch {
            marker = undefined; // the backend is unreachable: running the query will say so
          }
        }
        setError(marker);
        const e = editorRef.current;
        if (e && e.editor.getValue() === text) {
          setValidationMarker(e.monaco, e.editor, marker);
        }
      }, validateDelayMs);
    },
    [validateDelayMs]
  );

  useEffect(() => {
    validate(value);
  }, [value, validate]);

  useEffect(
    () => () => {
      clearTimeout(timer.current);
      disposers.current.forEach((d) => d());
    },
    []
  );

  const onEditorDidMount = (editor: MonacoEditor, monaco: Monaco) => {
    editorRef.current = { editor, monaco };
    const completion = registerCompletion(monaco, editor, {
      labelNames: (s) => latest.current.data.labelNames(s),
      labelValues: (n, s) => latest.current.data.labelValues(n, s),
    });
    disposers.current.push(() => completion.dispose());
    editor.addCommand(monaco.KeyMod.Shift | monaco.KeyCode.Enter, () => {
      latest.current.onChange(editor.getValue());
      latest.current.onRunQuery?.();
    });
  };

  return (
    <div className={styles.wrapper} data-testid="lode-logql-field">
      <CodeEditor
        value={value}
        language={LANGUAGE_ID}
        height={Math.min(lines, 12) * LINE_HEIGHT + 10}
        showLineNumbers={false}
        showMiniMap={false}
        containerStyles={styles.editor}
        monacoOptions={{
          wordWrap: 'on',
          lineNumbers: 'off',
          folding: false,
          scrollBeyondLastLine: false,
          renderLineHighlight: 'none',
          overviewRulerLanes: 0,
          fixedOverflowWidgets: true,
          suggest: { showWords: false },
          fontSize: 14,
          lineHeight: LINE_HEIGHT,
        }}
        onBeforeEditorMount={ensureLanguage}
        onEditorDidMount={onEditorDidMount}
        onChange={(text) => {
          setLines(text.split('\n').length);
          validate(text);
        }}
        onBlur={(text) => onChange(text)}
      />
      {error && (
        <div className={styles.error} role="alert">
          {`Line ${error.startLineNumber}, column ${error.startColumn}: ${error.message}`}
        </div>
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  wrapper: css({ flex: 1, minWidth: 0 }),
  editor: css({ minHeight: theme.spacing(4), border: `1px solid ${theme.colors.border.medium}`, borderRadius: theme.shape.radius.default }),
  error: css({ color: theme.colors.error.text, fontSize: theme.typography.bodySmall.fontSize, marginTop: theme.spacing(0.5) }),
});
