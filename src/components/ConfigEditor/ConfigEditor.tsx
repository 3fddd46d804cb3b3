import React from 'react';

import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Divider, Field, InlineSwitch, Input, RadioButtonGroup, SecretInput, SecretTextArea, Stack, Text } from '@grafana/ui';

import { AuthType, DEFAULT_CONTEXT_LINES, DEFAULT_MAX_LINES, LodeOptions, LodeSecureJsonData } from '../../types';
import { DerivedFieldsEditor } from './DerivedFieldsEditor';
import { LabelMappingEditor } from './LabelMappingEditor';
import { LodeSettings, authTypeOf, resetSecret, setAuthType, setJsonData, setSecret } from './settings';

export type ConfigEditorProps = DataSourcePluginOptionsEditorProps<LodeOptions, LodeSecureJsonData>;

const authOptions: Array<{ label: string; value: AuthType }> = [
  { label: 'No auth', value: 'none' },
  { label: 'Basic auth', value: 'basic' },
  { label: 'Bearer token', value: 'bearer' },
];

function numberOrUndefined(raw: string): number | undefined {
  const n = Number(raw);
  return raw.trim() !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Settings of a Lode datasource: connection, tenant, auth, TLS, limits and Explore features. */
export function ConfigEditor({ options, onOptionsChange }: ConfigEditorProps) {
  const o = options as LodeSettings;
  const jd = o.jsonData;
  const configured = o.secureJsonFields ?? {};
  const secure = o.secureJsonData ?? {};
  const change = (next: LodeSettings) => onOptionsChange(next);
  const auth = authTypeOf(o);

  return (
    <Stack direction="column" gap={2}>
      <Text element="h3">Connection</Text>
      <Field label="URL" description="Address of lode's HTTP API (the plugin adds /loki/api/v1), e.g. http://lode:3100" required>
        <Input id="lode-url" width={60} value={o.url} placeholder="http://localhost:3100" onChange={(e) => change({ ...o, url: e.currentTarget.value })} />
      </Field>
      <Field label="Tenant" description="Sent as X-Scope-OrgID on every request. Leave empty when lode runs without auth (tenant fake).">
        <Input id="lode-tenant" width={40} value={jd.tenant ?? ''} onChange={(e) => change(setJsonData(o, 'tenant', e.currentTarget.value || undefined))} />
      </Field>

      <Divider />
      <Text element="h3">Authentication</Text>
      <RadioButtonGroup options={authOptions} value={auth} onChange={(v) => change(setAuthType(o, v))} />
      {auth === 'basic' && (
        <>
          <Field label="User">
            <Input id="lode-basic-user" width={40} value={o.basicAuthUser ?? ''} onChange={(e) => change({ ...o, basicAuthUser: e.currentTarget.value })} />
          </Field>
          <Field label="Password" description="Stored encrypted; only the plugin backend reads it.">
            <SecretInput
              id="lode-basic-password"
              width={40}
              isConfigured={Boolean(configured.basicAuthPassword)}
              value={secure.basicAuthPassword ?? ''}
              onChange={(e) => change(setSecret(o, 'basicAuthPassword', e.currentTarget.value))}
              onReset={() => change(resetSecret(o, 'basicAuthPassword'))}
            />
          </Field>
        </>
      )}
      {auth === 'bearer' && (
        <Field label="Token" description="Sent as Authorization: Bearer. Stored encrypted; only the plugin backend reads it.">
          <SecretInput
            id="lode-bearer-token"
            width={60}
            isConfigured={Boolean(configured.bearerToken)}
            value={secure.bearerToken ?? ''}
            onChange={(e) => change(setSecret(o, 'bearerToken', e.currentTarget.value))}
            onReset={() => change(resetSecret(o, 'bearerToken'))}
          />
        </Field>
      )}

      <Divider />
      <Text element="h3">TLS</Text>
      <Field label="Skip certificate verification" description="Accept any server certificate. For testing only.">
        <InlineSwitch id="lode-tls-skip" value={Boolean(jd.tlsSkipVerify)} onChange={(e) => change(setJsonData(o, 'tlsSkipVerify', e.currentTarget.checked))} />
      </Field>
      <Field label="Server name" description="Name expected in the server certificate, when it differs from the URL's host.">
        <Input id="lode-tls-server-name" width={40} value={jd.serverName ?? ''} onChange={(e) => change(setJsonData(o, 'serverName', e.currentTarget.value || undefined))} />
      </Field>
      <Field label="With CA certificate" description="Verify the server with this CA instead of the system's.">
        <InlineSwitch id="lode-tls-ca-on" value={Boolean(jd.tlsAuthWithCACert)} onChange={(e) => change(setJsonData(o, 'tlsAuthWithCACert', e.currentTarget.checked))} />
      </Field>
      {jd.tlsAuthWithCACert && (
        <Field label="CA certificate (PEM)">
          <SecretTextArea
            id="lode-tls-ca"
            rows={5}
            cols={60}
            isConfigured={Boolean(configured.tlsCACert)}
            value={secure.tlsCACert ?? ''}
            onChange={(e) => change(setSecret(o, 'tlsCACert', e.currentTarget.value))}
            onReset={() => change(resetSecret(o, 'tlsCACert'))}
          />
        </Field>
      )}
      <Field label="TLS client authentication" description="Present a client certificate to lode.">
        <InlineSwitch id="lode-tls-client-on" value={Boolean(jd.tlsAuth)} onChange={(e) => change(setJsonData(o, 'tlsAuth', e.currentTarget.checked))} />
      </Field>
      {jd.tlsAuth && (
        <>
          <Field label="Client certificate (PEM)">
            <SecretTextArea
              id="lode-tls-client-cert"
              rows={5}
              cols={60}
              isConfigured={Boolean(configured.tlsClientCert)}
              value={secure.tlsClientCert ?? ''}
              onChange={(e) => change(setSecret(o, 'tlsClientCert', e.currentTarget.value))}
              onReset={() => change(resetSecret(o, 'tlsClientCert'))}
            />
          </Field>
          <Field label="Client key (PEM)">
            <SecretTextArea
              id="lode-tls-client-key"
              rows={5}
              cols={60}
              isConfigured={Boolean(configured.tlsClientKey)}
              value={secure.tlsClientKey ?? ''}
              onChange={(e) => change(setSecret(o, 'tlsClientKey', e.currentTarget.value))}
              onReset={() => change(resetSecret(o, 'tlsClientKey'))}
            />
          </Field>
        </>
      )}

      <Divider />
      <Text element="h3">Queries</Text>
      <Field label="Timeout" description="Seconds a request to lode may take (1 to 600).">
        <Input
          id="lode-timeout"
          type="number"
          width={12}
          placeholder="30"
          value={jd.timeout ?? ''}
          onChange={(e) => change(setJsonData(o, 'timeout', numberOrUndefined(e.currentTarget.value)))}
        />
      </Field>
      <Field label="Maximum lines" description="Line limit of log queries that do not set one.">
        <Input
          id="lode-max-lines"
          type="number"
          width={12}
          placeholder={String(DEFAULT_MAX_LINES)}
          value={jd.maxLines ?? ''}
          onChange={(e) => change(setJsonData(o, 'maxLines', numberOrUndefined(e.currentTarget.value)))}
        />
      </Field>
      <Field label="Context lines" description="Lines of the same stream shown before and after a line in log context (at least).">
        <Input
          id="lode-context-lines"
          type="number"
          width={12}
          placeholder={String(DEFAULT_CONTEXT_LINES)}
          value={jd.contextLines ?? ''}
          onChange={(e) => change(setJsonData(o, 'contextLines', numberOrUndefined(e.currentTarget.value)))}
        />
      </Field>

      <Divider />
      <Text element="h3">Metrics to logs</Text>
      <Text color="secondary">
        When Explore opens logs for a metric, its label matchers are kept if Lode has the label. Map metrics labels that are named differently in your logs, e.g.
        kubernetes_namespace → namespace.
      </Text>
      <LabelMappingEditor value={jd.labelMapping ?? []} onChange={(v) => change(setJsonData(o, 'labelMapping', v))} />

      <Divider />
      <Text element="h3">Derived fields</Text>
      <Text color="secondary">Turn part of each line (or a label) into a field with a link, e.g. a trace id opening your tracing datasource.</Text>
      <DerivedFieldsEditor value={jd.derivedFields ?? []} onChange={(v) => change(setJsonData(o, 'derivedFields', v))} />
    </Stack>
  );
}
