import { act, fireEvent, render, screen } from '@testing-library/react';
import React from 'react';

import type { LodeDatasource } from '../../datasource';
import { LodeVariableQuery } from '../../types';
import { VariableQueryEditor } from './VariableQueryEditor';

async function setup(query: Partial<LodeVariableQuery>) {
  const resources = { setRange: jest.fn(), labelNames: jest.fn(async () => ['app', 'namespace']) };
  const onChange = jest.fn();
  render(
    <VariableQueryEditor
      datasource={{ resources } as unknown as LodeDatasource}
      query={{ refId: 'A', type: 'labelValues', ...query } as LodeVariableQuery}
      onChange={onChange}
      onRunQuery={jest.fn()}
    />
  );
  await act(async () => {}); // label names arrive
  return { onChange, resources };
}

describe('VariableQueryEditor', () => {
  it('switches to label names', async () => {
    const { onChange, resources } = await setup({ label: 'app' });
    expect(resources.labelNames).toHaveBeenCalled();
    fireEvent.click(screen.getByText('Label names'));
    expect(onChange).toHaveBeenCalledWith(expect.objectContaining({ type: 'labelNames' }));
  });

  it('saves the stream selector', async () => {
    const { onChange } = await setup({ label: 'app' });
    fireEvent.blur(document.getElementById('lode-variable-stream')!, { target: { value: ' {namespace="$namespace"} ' } });
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', type: 'labelValues', label: 'app', stream: '{namespace="$namespace"}' });
  });

  it('hides the label for label names', async () => {
    await setup({ type: 'labelNames' });
    expect(document.getElementById('lode-variable-label')).toBeNull();
  });
});
