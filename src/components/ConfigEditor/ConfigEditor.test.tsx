import { fireEvent, render, screen } from '@testing-library/react';
import React from 'react';

import { ConfigEditor } from './ConfigEditor';
import { LodeSettings } from './settings';

function settings(patch: Partial<LodeSettings> = {}): LodeSettings {
  return {
    id: 1,
    uid: 'lode',
    orgId: 1,
    name: 'Lode',
    type: 'lode-logs-datasource',
    typeName: 'Lode',
    typeLogoUrl: '',
    access: 'proxy',
    url: 'http://lode:3100',
    user: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    readOnly: false,
    withCredentials: false,
    jsonData: {},
    secureJsonFields: {},
    ...patch,
  } as LodeSettings;
}

// The editor is controlled: each test renders, changes one thing and reads the saved settings.
function setup(patch: Partial<LodeSettings> = {}) {
  const onOptionsChange = jest.fn();
  const view = render(<ConfigEditor options={settings(patch)} onOptionsChange={onOptionsChange} />);
  const last = (): LodeSettings => onOptionsChange.mock.calls[onOptionsChange.mock.calls.length - 1][0];
  return { onOptionsChange, last, view };
}

describe('ConfigEditor', () => {
  it('saves URL and tenant', () => {
    const { last } = setup();
    fireEvent.change(screen.getByPlaceholderText('http://localhost:3100'), { target: { value: 'https://lode.example:3100' } });
    expect(last().url).toBe('https://lode.example:3100');
    fireEvent.change(document.getElementById('lode-tenant')!, { target: { value: 'team-a' } });
    expect(last().jsonData.tenant).toBe('team-a');
  });

  it('keeps the bearer token in secureJsonData only and turns basic auth off', () => {
    const { last, view, onOptionsChange } = setup({ basicAuth: true, jsonData: { authType: 'basic' } });
    fireEvent.click(screen.getByText('Bearer token'));
    expect(last().jsonData.authType).toBe('bearer');
    expect(last().basicAuth).toBe(false);
    view.rerender(<ConfigEditor options={last()} onOptionsChange={onOptionsChange} />);
    fireEvent.change(document.getElementById('lode-bearer-token')!, { target: { value: 's3cret-token' } });
    expect(last().secureJsonData).toEqual({ bearerToken: 's3cret-token' });
    expect(JSON.stringify(last().jsonData)).not.toContain('s3cret-token');
  });

  it('resets a saved password', () => {
    const { last } = setup({ basicAuth: true, basicAuthUser: 'grafana', jsonData: { authType: 'basic' }, secureJsonFields: { basicAuthPassword: true } });
    expect(screen.getByDisplayValue('configured')).toBeInTheDocument();
    fireEvent.click(screen.getByText('Reset'));
    expect(last().secureJsonFields.basicAuthPassword).toBe(false);
    expect(last().secureJsonData?.basicAuthPassword).toBe('');
  });

  it('shows the CA certificate field only when enabled', () => {
    const { last, view, onOptionsChange } = setup();
    expect(document.getElementById('lode-tls-ca')).toBeNull();
    fireEvent.click(document.getElementById('lode-tls-ca-on')!);
    expect(last().jsonData.tlsAuthWithCACert).toBe(true);
    view.rerender(<ConfigEditor options={last()} onOptionsChange={onOptionsChange} />);
    fireEvent.change(document.getElementById('lode-tls-ca')!, { target: { value: '-----BEGIN CERTIFICATE-----' } });
    expect(last().secureJsonData?.tlsCACert).toBe('-----BEGIN CERTIFICATE-----');
  });

  it('saves numbers and clears invalid ones', () => {
    const { last } = setup({ jsonData: { maxLines: 100 } });
    fireEvent.change(document.getElementById('lode-timeout')!, { target: { value: '45' } });
    expect(last().jsonData.timeout).toBe(45);
    fireEvent.change(document.getElementById('lode-max-lines')!, { target: { value: '-3' } });
    expect(last().jsonData.maxLines).toBeUndefined();
    fireEvent.change(document.getElementById('lode-context-lines')!, { target: { value: '20' } });
    expect(last().jsonData.contextLines).toBe(20);
  });

  it('edits label mappings', () => {
    const { last, view, onOptionsChange } = setup();
    fireEvent.click(screen.getByText('Add label mapping'));
    view.rerender(<ConfigEditor options={last()} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByLabelText('Metrics label 1'), { target: { value: 'kubernetes_namespace' } });
    view.rerender(<ConfigEditor options={last()} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByLabelText('Logs label 1'), { target: { value: 'namespace' } });
    expect(last().jsonData.labelMapping).toEqual([{ metricsLabel: 'kubernetes_namespace', logsLabel: 'namespace' }]);
  });

  it('edits derived fields', () => {
    const { last, view, onOptionsChange } = setup();
    fireEvent.click(screen.getByText('Add derived field'));
    view.rerender(<ConfigEditor options={last()} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByLabelText('Derived field 1 name'), { target: { value: 'TraceID' } });
    view.rerender(<ConfigEditor options={last()} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByLabelText('Derived field 1 regex'), { target: { value: 'traceID=(\\w+)' } });
    view.rerender(<ConfigEditor options={last()} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByLabelText('Derived field 1 URL'), { target: { value: 'https://t.example/${__value.raw}' } });
    expect(last().jsonData.derivedFields).toEqual([{ name: 'TraceID', matcherType: 'regex', matcherRegex: 'traceID=(\\w+)', url: 'https://t.example/${__value.raw}' }]);
  });
});
