import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import React from 'react';

import { CoreApp } from '@grafana/data';

import type { LodeDatasource } from '../../datasource';
import { LodeQuery, LodeQueryType } from '../../types';
import { QueryEditor } from './QueryEditor';

// Monaco cannot run in jsdom: the code editor is a textarea that commits on blur.
jest.mock('@grafana/ui', () => {
  const actual = jest.requireActual('@grafana/ui');
  return {
    ...actual,
    CodeEditor: (p: { value: string; onBlur?: (v: string) => void; onChange?: (v: string) => void }) => (
      <textarea aria-label="LogQL" defaultValue={p.value} onChange={(e) => p.onChange?.(e.currentTarget.value)} onBlur={(e) => p.onBlur?.(e.currentTarget.value)} />
    ),
  };
});

function fakeDatasource(validate = jest.fn(async () => ({ valid: true }))) {
  const resources = {
    setRange: jest.fn(),
    labelNames: jest.fn(async () => ['app', 'namespace']),
    labelValues: jest.fn(async (name: string) => (name === 'app' ? ['api', 'web'] : ['prod', 'dev'])),
    validate,
  };
  return {
    resources,
    jsonData: { maxLines: 500 },
    getQueryHints: jest.fn(() => []),
    modifyQuery: jest.fn(),
  } as unknown as LodeDatasource & { resources: typeof resources };
}

function setup(query: Partial<LodeQuery> = {}, app = CoreApp.Explore, ds = fakeDatasource()) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  render(<QueryEditor datasource={ds} query={{ refId: 'A', expr: '', ...query }} onChange={onChange} onRunQuery={onRunQuery} app={app} />);
  return { onChange, onRunQuery, ds };
}

describe('QueryEditor', () => {
  it('saves the expression when the editor loses focus', () => {
    const { onChange } = setup({ expr: '{app="api"}' });
    const field = screen.getByLabelText('LogQL');
    fireEvent.change(field, { target: { value: '{app="web"}' } });
    fireEvent.blur(field);
    expect(onChange).toHaveBeenCalledWith(expect.objectContaining({ refId: 'A', expr: '{app="web"}' }));
  });

  it('shows log options for a log query and saves the line limit', () => {
    const { onChange, onRunQuery } = setup({ expr: '{app="api"}' });
    expect(screen.getByText('Live')).toBeInTheDocument();
    const limit = screen.getByLabelText('Line limit');
    expect(limit).toHaveAttribute('placeholder', '500');
    fireEvent.blur(limit, { target: { value: '50' } });
    expect(onChange).toHaveBeenCalledWith(expect.objectContaining({ maxLines: 50 }));
    expect(onRunQuery).toHaveBeenCalled();
    expect(screen.queryByLabelText('Legend')).not.toBeInTheDocument();
  });

  it('switches the query type and direction', () => {
    const { onChange } = setup({ expr: '{app="api"}' });
    fireEvent.click(screen.getByText('Live'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ queryType: LodeQueryType.Stream }));
    fireEvent.click(screen.getByText('Oldest first'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ direction: 'forward' }));
  });

  it('shows legend and step for a metric query', () => {
    const { onChange } = setup({ expr: 'sum by (level) (rate({app="api"}[1m]))' });
    expect(screen.queryByLabelText('Line limit')).not.toBeInTheDocument();
    fireEvent.blur(screen.getByLabelText('Legend'), { target: { value: '{{level}}' } });
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ legendFormat: '{{level}}' }));
    fireEvent.blur(screen.getByLabelText('Step'), { target: { value: '30s' } });
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ step: '30s' }));
  });

  it('offers no live tail in alert rules and warns about log queries', () => {
    setup({ expr: '{app="api"}' }, CoreApp.UnifiedAlerting);
    expect(screen.queryByText('Live')).not.toBeInTheDocument();
    expect(screen.getByText('Alert rules need a metric query')).toBeInTheDocument();
  });

  it('shows the syntax error from the backend under the editor', async () => {
    const validate = jest.fn(async () => ({ valid: false, message: 'unexpected end of query', line: 1, column: 12 }));
    setup({ expr: '{app="api"} |' }, CoreApp.Explore, fakeDatasource(validate));
    expect(await screen.findByRole('alert')).toHaveTextContent('Line 1, column 12: unexpected end of query');
    expect(validate).toHaveBeenCalledWith('{app="api"} |');
  });

  it('builds a selector in the label browser and runs it', async () => {
    const { onChange, onRunQuery, ds } = setup();
    fireEvent.click(screen.getByText('Label browser'));
    fireEvent.click(await screen.findByText('namespace'));
    fireEvent.click(await screen.findByText('prod'));
    fireEvent.click(screen.getByText('app'));
    await waitFor(() => expect(ds.resources.labelValues).toHaveBeenLastCalledWith('app', '{namespace="prod"}'));
    fireEvent.click(await screen.findByText('api'));
    fireEvent.click(await screen.findByText('web'));
    expect(screen.getByLabelText('Resulting selector')).toHaveTextContent('{app=~"api|web", namespace="prod"}');
    fireEvent.click(screen.getByText('Show logs'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ expr: '{app=~"api|web", namespace="prod"}' }));
    expect(onRunQuery).toHaveBeenCalled();
  });
});
