// Pure updates of the datasource settings the config editor makes.
import { DataSourceSettings } from '@grafana/data';

import { AuthType, LodeOptions, LodeSecureJsonData } from '../../types';

export type LodeSettings = DataSourceSettings<LodeOptions, LodeSecureJsonData>;

export function setJsonData<K extends keyof LodeOptions>(o: LodeSettings, key: K, value: LodeOptions[K]): LodeSettings {
  return { ...o, jsonData: { ...o.jsonData, [key]: value } };
}

/** Sets a secret; it goes to secureJsonData only, never to jsonData. */
export function setSecret(o: LodeSettings, key: keyof LodeSecureJsonData, value: string): LodeSettings {
  return { ...o, secureJsonData: { ...(o.secureJsonData ?? {}), [key]: value } };
}

/** Forgets a saved secret (the Reset button of a secret field). */
export function resetSecret(o: LodeSettings, key: keyof LodeSecureJsonData): LodeSettings {
  return {
    ...o,
    secureJsonFields: { ...o.secureJsonFields, [key]: false },
    secureJsonData: { ...(o.secureJsonData ?? {}), [key]: '' },
  };
}

/**
 * Switches the auth type. Basic auth uses Grafana's own basicAuth and basicAuthUser fields; a
 * bearer token turns basic auth off (the backend refuses both at once).
 */
export function setAuthType(o: LodeSettings, t: AuthType): LodeSettings {
  return { ...setJsonData(o, 'authType', t), basicAuth: t === 'basic' };
}

/** The auth type of saved settings, also for settings saved before authType existed. */
export function authTypeOf(o: LodeSettings): AuthType {
  if (o.jsonData.authType) {
    return o.jsonData.authType;
  }
  if (o.basicAuth) {
    return 'basic';
  }
  return o.secureJsonFields?.bearerToken ? 'bearer' : 'none';
}
