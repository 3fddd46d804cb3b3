package plugin

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

const testToken = "tok-3f9a1c77e2b54d0e"
const testPassword = "pw-91b2c3d4e5f6"

func TestLoadSettingsDefaults(t *testing.T) {
	s, err := LoadSettings(instance("http://lode:3100/", "", nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.URL != "http://lode:3100" || s.Tenant != "" || s.AuthType != AuthNone || s.Timeout != defaultTimeout ||
		s.MaxLines != defaultMaxLines || s.QueryConcurrency != defaultQueryConcurrency {
		t.Fatalf("defaults: %v", s)
	}
}

func TestLoadSettingsGood(t *testing.T) {
	in := instance("https://logs.example.com/lode", `{
		"tenant":"team-a|team-b","timeout":"45","maxLines":"5000","queryConcurrency":8,"serverName":"logs.internal",
		"labelMapping":[{"metricsLabel":"kubernetes_namespace","logsLabel":"namespace"}],
		"derivedFields":[{"name":"traceID","matcherRegex":"trace=(\\w+)","url":"${__value.raw}","datasourceUid":"tempo"}]}`,
		map[string]string{SecureBearerToken: testToken})
	s, err := LoadSettings(in)
	if err != nil {
		t.Fatal(err)
	}
	if s.URL != "https://logs.example.com/lode" || s.Tenant != "team-a|team-b" || s.Timeout != 45*time.Second || s.MaxLines != 5000 ||
		s.QueryConcurrency != 8 || s.AuthType != AuthBearer || s.TLSServerName != "logs.internal" {
		t.Fatalf("loaded %v", s)
	}
	if s.authorization() != "Bearer "+testToken {
		t.Fatal("bearer token not used")
	}
	if len(s.LabelMapping) != 1 || s.logsLabel("kubernetes_namespace") != "namespace" || s.logsLabel("job") != "job" {
		t.Fatalf("label mapping %v", s.LabelMapping)
	}
	if len(s.DerivedFields) != 1 || s.DerivedFields[0].MatcherType != MatcherRegex || s.DerivedFields[0].re == nil {
		t.Fatalf("derived fields %+v", s.DerivedFields)
	}
	// A duration string is accepted for the timeout too.
	s, err = LoadSettings(instance("http://l", `{"timeout":"2m"}`, nil))
	if err != nil || s.Timeout != 2*time.Minute {
		t.Fatalf("timeout 2m: %v %v", s.Timeout, err)
	}
}

// TestLoadSettingsBad pairs each bad configuration with its exact message.
func TestLoadSettingsBad(t *testing.T) {
	basic := func(s backend.DataSourceInstanceSettings, user string) backend.DataSourceInstanceSettings {
		s.BasicAuthEnabled, s.BasicAuthUser = true, user
		return s
	}
	for _, c := range []struct {
		name string
		in   backend.DataSourceInstanceSettings
		want string
	}{
		{"empty URL", instance("", "", nil), "URL is empty: enter the address of lode, for example http://localhost:3100"},
		{"no scheme", instance("lode:3100", "", nil), `URL scheme "lode" is not supported: the URL must start with http:// or https://`},
		{"ftp", instance("ftp://lode", "", nil), `URL scheme "ftp" is not supported: the URL must start with http:// or https://`},
		{"no host", instance("http://", "", nil), `URL "http:" has no host: enter it as http://host:port`},
		{"credentials in URL", instance("http://bob:"+testPassword+"@lode:3100", "", nil), "URL must not contain a user or password: use Basic auth and save the password in its secure field"},
		{"API path", instance("http://lode:3100/loki/api/v1", "", nil), `URL "http://lode:3100/loki/api/v1" ends with /loki/api/v1: enter only the server address (and path prefix, if any); the plugin adds the API path`},
		{"query string", instance("http://lode:3100/?a=b", "", nil), `URL "http://lode:3100/?a=b" must not have a query string or fragment`},
		{"bad tenant", instance("http://l", `{"tenant":"a b"}`, nil), `tenant "a b" has characters lode does not accept: use letters, digits and !-_.*'() (and | to query several tenants)`},
		{"long tenant", instance("http://l", `{"tenant":"`+strings.Repeat("a", 151)+`"}`, nil), "tenant is 151 characters long: the limit is 150"},
		{"basic no user", basic(instance("http://l", "", map[string]string{SecureBasicAuthPassword: testPassword}), ""), "Basic auth is selected but the user is empty: enter the user"},
		{"basic no password", basic(instance("http://l", "", nil), "bob"), "Basic auth is selected but no password is saved: enter the password"},
		{"bearer no token", instance("http://l", `{"authType":"bearer"}`, nil), "bearer token auth is selected but no token is saved: enter the token"},
		{"bearer and basic", basic(instance("http://l", `{"authType":"bearer"}`, map[string]string{SecureBearerToken: testToken}), "bob"), "both Basic auth and a bearer token are enabled: choose one"},
		{"unknown auth", instance("http://l", `{"authType":"oauth"}`, nil), `auth type "oauth" is unknown: choose none, basic or bearer`},
		{"token in jsonData", instance("http://l", `{"bearerToken":"`+testToken+`"}`, nil), `the plain settings contain "bearerToken": secrets must be saved in the secure fields (secureJsonData); remove it and enter it again in the config editor`},
		{"password in jsonData", instance("http://l", `{"basicAuthPassword":"`+testPassword+`"}`, nil), `the plain settings contain "basicAuthPassword": secrets must be saved in the secure fields (secureJsonData); remove it and enter it again in the config editor`},
		{"CA missing", instance("https://l", `{"tlsAuthWithCACert":true}`, nil), `"with CA cert" is on but no CA certificate is saved: paste the CA certificate (PEM)`},
		{"CA garbage", instance("https://l", `{"tlsAuthWithCACert":true}`, map[string]string{SecureTLSCACert: "hello"}), "the CA certificate is not a PEM certificate: paste the text starting with -----BEGIN CERTIFICATE-----"},
		{"client cert missing", instance("https://l", `{"tlsAuth":true}`, nil), "TLS client auth is on but no client certificate is saved: paste the client certificate (PEM)"},
		{"client key missing", instance("https://l", `{"tlsAuth":true}`, map[string]string{SecureTLSClientCert: "x"}), "TLS client auth is on but no client key is saved: paste the client key (PEM)"},
		{"client pair broken", instance("https://l", `{"tlsAuth":true}`, map[string]string{SecureTLSClientCert: "x", SecureTLSClientKey: "y"}), "the TLS client certificate and key cannot be used together: check that both are PEM and belong to each other"},
		{"server name on http", instance("http://l", `{"serverName":"x"}`, nil), "a TLS server name is set but the URL uses http://: use https:// or clear the server name"},
		{"timeout words", instance("http://l", `{"timeout":"soon"}`, nil), `timeout "soon" is not a number of seconds or a duration like 30s`},
		{"timeout range", instance("http://l", `{"timeout":3600}`, nil), "timeout must be between 1s and 10m0s, got 1h0m0s"},
		{"max lines zero", instance("http://l", `{"maxLines":0}`, nil), "max lines must be between 1 and 100000, got 0"},
		{"max lines words", instance("http://l", `{"maxLines":"many"}`, nil), `max lines "many" is not a whole number`},
		{"concurrency", instance("http://l", `{"queryConcurrency":100}`, nil), "query concurrency must be between 1 and 32, got 100"},
		{"wrong JSON type", instance("http://l", `{"tenant":5}`, nil), `the settings JSON cannot be read ("tenant" should be a string): save the datasource again from the config editor`},
		{"derived no name", instance("http://l", `{"derivedFields":[{"matcherRegex":"a(b)","url":"x"}]}`, nil), "derived field 1: has no name: enter the name of the field to create"},
		{"derived bad regex", instance("http://l", `{"derivedFields":[{"name":"t","matcherRegex":"a(b","url":"x"}]}`, nil), "derived field 1 (\"t\"): the regex does not compile: error parsing regexp: missing closing ): `a(b`"},
		{"derived empty regex", instance("http://l", `{"derivedFields":[{"name":"t","url":"x"}]}`, nil), `derived field 1 ("t"): the regex is empty: enter a regex whose first group captures the value, e.g. traceID=(\w+)`},
		{"derived bad label", instance("http://l", `{"derivedFields":[{"name":"t","matcherType":"label","matcherRegex":"a-b","url":"x"}]}`, nil), `derived field 1 ("t"): "a-b" is not a label name: enter the label whose value becomes the field`},
		{"derived no url", instance("http://l", `{"derivedFields":[{"name":"t","matcherRegex":"(a)"}]}`, nil), `derived field 1 ("t"): has no URL: enter a URL (or an internal link query) using ${__value.raw}`},
		{"derived duplicate", instance("http://l", `{"derivedFields":[{"name":"t","matcherRegex":"(a)","url":"x"},{"name":"t","matcherRegex":"(b)","url":"y"}]}`, nil), `derived field 2 ("t"): the name is used by another derived field: names must be unique`},
		{"derived matcher type", instance("http://l", `{"derivedFields":[{"name":"t","matcherType":"json","matcherRegex":"(a)","url":"x"}]}`, nil), `derived field 1 ("t"): matcher type "json" is unknown: choose regex or label`},
		{"mapping bad name", instance("http://l", `{"labelMapping":[{"metricsLabel":"k8s-ns","logsLabel":"namespace"}]}`, nil), `label mapping 1: metrics label "k8s-ns" is not a label name (letters, digits and _, not starting with a digit)`},
		{"mapping twice", instance("http://l", `{"labelMapping":[{"metricsLabel":"a","logsLabel":"b"},{"metricsLabel":"a","logsLabel":"c"}]}`, nil), `label mapping 2: metrics label "a" is mapped twice: keep one mapping`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadSettings(c.in)
			if !errors.Is(err, ErrInvalidSettings) {
				t.Fatalf("got %v, want ErrInvalidSettings", err)
			}
			if want := ErrInvalidSettings.Error() + ": " + c.want; err.Error() != want {
				t.Fatalf("message\n got: %s\nwant: %s", err, want)
			}
			for _, secret := range []string{testToken, testPassword} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error reveals a secret: %s", err)
				}
			}
		})
	}
}

func TestLoadSettingsListsEveryProblem(t *testing.T) {
	_, err := LoadSettings(instance("", `{"maxLines":-1,"tenant":"a b"}`, nil))
	if err == nil || strings.Count(err.Error(), "; ") != 2 {
		t.Fatalf("want three problems, got %v", err)
	}
}

func TestLoadSettingsTLS(t *testing.T) {
	certPEM, keyPEM := selfSigned(t)
	s, err := LoadSettings(instance("https://l", `{"tlsAuth":true,"tlsAuthWithCACert":true,"tlsSkipVerify":false}`,
		map[string]string{SecureTLSCACert: certPEM, SecureTLSClientCert: certPEM, SecureTLSClientKey: keyPEM}))
	if err != nil {
		t.Fatal(err)
	}
	if s.TLSCACert != certPEM || s.TLSClientCert != certPEM || s.tlsClientKey != keyPEM {
		t.Fatal("TLS material not loaded")
	}
	if out := fmt.Sprintf("%v %+v %#v %s", s, s, s, s); strings.Contains(out, "PRIVATE KEY") {
		t.Fatalf("settings print the client key: %s", out)
	}
}

// TestSecretsNeverLeak checks that the token and password stay out of printed settings, of
// logs and of every error message, even when lode echoes the Authorization header back.
func TestSecretsNeverLeak(t *testing.T) {
	lode := newFakeLode(t)
	lode.handle("/loki/api/v1/labels", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad credentials: "+r.Header.Get("Authorization"), http.StatusUnauthorized)
	})
	lode.handle("/loki/api/v1/query_range", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "denied for "+r.Header.Get("Authorization"), http.StatusForbidden)
	})
	for _, c := range []struct {
		name    string
		in      backend.DataSourceInstanceSettings
		secrets []string
	}{
		{"bearer", instance(lode.URL, `{"authType":"bearer","tenant":"t"}`, map[string]string{SecureBearerToken: testToken}), []string{testToken}},
		{"basic", func() backend.DataSourceInstanceSettings {
			s := instance(lode.URL, "", map[string]string{SecureBasicAuthPassword: testPassword})
			s.BasicAuthEnabled, s.BasicAuthUser = true, "bob"
			return s
		}(), []string{testPassword, basicAuthHeader("bob", testPassword)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			logger := &captureLogger{}
			d := newTestDatasource(t, c.in, Options{Logger: logger})
			var out []string
			s, _ := d.Settings()
			out = append(out, fmt.Sprintf("%v|%+v|%#v|%s", s, s, s, s))
			js, _ := json.Marshal(s)
			out = append(out, string(js))
			h, _ := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
			out = append(out, h.Message, string(h.JSONDetails))
			r := queryOne(t, d, dataQuery("A", `{"expr":"{a=\"b\"}"}`, time.Unix(0, 0), time.Unix(60, 0)))
			if r.Error == nil {
				t.Fatal("query against a refusing lode succeeded")
			}
			out = append(out, r.Error.Error(), logger.text())
			var sent []string
			sender := backend.CallResourceResponseSenderFunc(func(res *backend.CallResourceResponse) error {
				sent = append(sent, string(res.Body))
				return nil
			})
			_ = d.CallResource(context.Background(), &backend.CallResourceRequest{Path: "labels", Method: "GET", URL: "labels"}, sender)
			out = append(out, sent...)
			if lode.last(t).Header.Get("Authorization") == "" {
				t.Fatal("credentials were not sent to lode")
			}
			all := strings.Join(out, "\n")
			for _, secret := range c.secrets {
				if strings.Contains(all, secret) {
					t.Fatalf("a secret leaked:\n%s", all)
				}
			}
			if !strings.Contains(h.Message, "[redacted]") {
				t.Fatalf("health message should show lode's (redacted) answer: %s", h.Message)
			}
		})
	}
}

// selfSigned returns a PEM certificate and its PEM private key.
func selfSigned(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lode"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), DNSNames: []string{"localhost"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
}
