import { fireEvent, render, screen } from '@testing-library/react';
import React from 'react';

import type { LodeDatasource } from '../../datasource';
import { AnnotationEditor } from './AnnotationEditor';

jest.mock('@grafana/ui', () => {
  const actual = jest.requireActual('@grafana/ui');
  return {
    ...actual,
    CodeEditor: (p: { value: string; onBlur?: (v: string) => void }) => <textarea aria-label="LogQL" defaultValue={p.value} onBlur={(e) => p.onBlur?.(e.currentTarget.value)} />,
  };
});

describe('AnnotationEditor', () => {
  it('saves the query and how lines become annotations', () => {
    const onAnnotationChange = jest.fn();
    const datasource = { resources: { validate: jest.fn(async () => ({ valid: true })) } } as unknown as LodeDatasource;
    const annotation = { name: 'Deploys', enable: true, iconColor: 'red', target: { refId: 'Anno', expr: '{app="deployer"}' } };
    render(
      <AnnotationEditor
        datasource={datasource}
        query={{ refId: 'Anno', expr: '' }}
        onChange={jest.fn()}
        onRunQuery={jest.fn()}
        annotation={annotation}
        onAnnotationChange={onAnnotationChange}
      />
    );
    fireEvent.blur(screen.getByLabelText('LogQL'), { target: { value: '{app="deployer"} |= "done"' } });
    expect(onAnnotationChange).toHaveBeenLastCalledWith(expect.objectContaining({ target: expect.objectContaining({ expr: '{app="deployer"} |= "done"' }) }));
    fireEvent.blur(document.getElementById('lode-anno-tags')!, { target: { value: 'app,level' } });
    expect(onAnnotationChange).toHaveBeenLastCalledWith(expect.objectContaining({ name: 'Deploys', target: expect.objectContaining({ tagKeys: 'app,level', queryType: 'range' }) }));
  });
});
