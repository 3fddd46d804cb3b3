package plugin

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/regexp"
)

// Defaults and bounds of the datasource settings. These constants are the only defaults.
const (
	defaultTimeout          = 30 * time.Second
	defaultMaxLines         = 1000
	defaultQueryConcurrency = 4
	maxMaxLines             = 100_000
	maxQueryConcurrency     = 32
	minTimeout              = time.Second
	maxTimeout              = 10 * time.Minute
	maxTenantLength         = 150
)

// Auth types of jsonData.authType.
const (
	AuthNone   = "none"
	AuthBasic  = "basic"
	AuthBearer = "bearer"
)

// Keys of secureJsonData the plugin reads. Nothing else in secureJsonData is used.
const (
	SecureBasicAuthPassword = "basicAuthPassword"
	SecureBearerToken       = "bearerToken"
	SecureTLSCACert         = "tlsCACert"
	SecureTLSClientCert     = "tlsClientCert"
	SecureTLSClientKey      = "tlsClientKey"
)

// Derived field matcher types.
const (
	MatcherRegex = "regex"
	MatcherLabel = "label"
)

// Settings is the validated configuration of one datasource instance, read by LoadSettings
// from Grafana's instance settings. Secrets are unexported and String/GoString never print them.
type Settings struct {
	URL              string
	Tenant           string
	AuthType         string // AuthNone, AuthBasic or AuthBearer
	BasicAuthUser    string
	TLSSkipVerify    bool
	TLSServerName    string
	TLSCACert        string // PEM, from secureJsonData (not secret, but stored there by Grafana)
	TLSClientCert    string // PEM
	Timeout          time.Duration
	MaxLines         int
	QueryConcurrency int
	DerivedFields    []DerivedField
	LabelMapping     []LabelMapping

	basicAuthPassword string
	bearerToken       string
	tlsClientKey      string
}

// DerivedField turns a part of each log line (or a label) into a field with a data link,
// e.g. a trace id linking to a tracing datasource. JSON names follow Grafana's Loki datasource.
type DerivedField struct {
	Name            string `json:"name"`
	MatcherType     string `json:"matcherType,omitempty"` // MatcherRegex (default) or MatcherLabel
	MatcherRegex    string `json:"matcherRegex"`          // regex (first group is the value) or label name
	URL             string `json:"url,omitempty"`         // link URL, or the query of an internal link; ${__value.raw} is the value
	URLDisplayLabel string `json:"urlDisplayLabel,omitempty"`
	DatasourceUID   string `json:"datasourceUid,omitempty"` // internal link target
	TargetBlank     bool   `json:"targetBlank,omitempty"`

	re *regexp.Regexp
}

// LabelMapping maps a metrics label name to the logs label name with the same meaning, for the
// metrics-to-logs jump (e.g. kubernetes_namespace → namespace).
type LabelMapping struct {
	MetricsLabel string `json:"metricsLabel"`
	LogsLabel    string `json:"logsLabel"`
}

// jsonData is the datasource's jsonData as the config editor saves it.
type jsonData struct {
	Tenant            string          `json:"tenant"`
	AuthType          string          `json:"authType"`
	TLSSkipVerify     bool            `json:"tlsSkipVerify"`
	TLSAuth           bool            `json:"tlsAuth"`
	TLSAuthWithCACert bool            `json:"tlsAuthWithCACert"`
	ServerName        string          `json:"serverName"`
	Timeout           json.RawMessage `json:"timeout"`
	MaxLines          json.RawMessage `json:"maxLines"`
	QueryConcurrency  json.RawMessage `json:"queryConcurrency"`
	DerivedFields     []DerivedField  `json:"derivedFields"`
	LabelMapping      []LabelMapping  `json:"labelMapping"`
}

// isSecretLikeKey reports whether a jsonData key would hold a secret in plain text.
func isSecretLikeKey(k string) bool {
	switch strings.ToLower(k) {
	case "password", "basicauthpassword", "bearertoken", "token", "apikey", "secret", "tlsclientkey", "authorization":
		return true
	}
	return false
}

var (
	labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	tenantRE    = regexp.MustCompile(`^[a-zA-Z0-9!\-_.*'()|]+$`)
)

// String describes the settings without any secret.
func (s Settings) String() string {
	return fmt.Sprintf("Settings{URL:%q Tenant:%q AuthType:%s BasicAuthUser:%q TLSSkipVerify:%t Timeout:%s MaxLines:%d DerivedFields:%d LabelMapping:%d}",
		s.URL, s.Tenant, s.AuthType, s.BasicAuthUser, s.TLSSkipVerify, s.Timeout, s.MaxLines, len(s.DerivedFields), len(s.LabelMapping))
}

// GoString is String, so that %#v cannot print secrets either.
func (s Settings) GoString() string { return s.String() }

// LoadSettings reads and validates the instance settings. It always returns usable settings
// (defaults where a value is missing or wrong) and, when something is wrong, an error wrapping
// ErrInvalidSettings that lists every problem in words a user can act on. No secret value ever
// appears in the error.
func LoadSettings(in backend.DataSourceInstanceSettings) (Settings, error) {
	s := Settings{Timeout: defaultTimeout, MaxLines: defaultMaxLines, QueryConcurrency: defaultQueryConcurrency}
	var p problems
	var jd jsonData
	if len(in.JSONData) > 0 && string(in.JSONData) != "null" {
		if err := json.Unmarshal(in.JSONData, &jd); err != nil {
			p.addf("the settings JSON cannot be read (%s): save the datasource again from the config editor", jsonErrorKind(err))
		}
		p.checkNoSecretsInJSON(in.JSONData)
	}
	s.URL = p.checkURL(in.URL)
	s.Tenant = p.checkTenant(jd.Tenant)
	p.loadAuth(&s, in, jd.AuthType)
	p.loadTLS(&s, in, jd)
	s.Timeout = p.durationSeconds("timeout", jd.Timeout, defaultTimeout, minTimeout, maxTimeout)
	s.MaxLines = p.intIn("max lines", jd.MaxLines, defaultMaxLines, 1, maxMaxLines)
	s.QueryConcurrency = p.intIn("query concurrency", jd.QueryConcurrency, defaultQueryConcurrency, 1, maxQueryConcurrency)
	s.DerivedFields = p.checkDerivedFields(jd.DerivedFields)
	s.LabelMapping = p.checkLabelMapping(jd.LabelMapping)
	return s, p.err()
}

// problems collects validation messages.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidSettings, strings.Join(p, "; "))
}

func jsonErrorKind(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return fmt.Sprintf("%q should be a %s", te.Field, te.Type)
	}
	return "malformed JSON"
}

func (p *problems) checkNoSecretsInJSON(raw json.RawMessage) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return
	}
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if isSecretLikeKey(k) && len(v) > 0 && string(v) != `""` && string(v) != "null" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		p.addf("the plain settings contain %q: secrets must be saved in the secure fields (secureJsonData); remove it and enter it again in the config editor", k)
	}
}

func (p *problems) checkURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		p.addf("URL is empty: enter the address of lode, for example http://localhost:3100")
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		p.addf("URL is not valid (%s): enter it as http://host:port", urlErrorKind(err))
		return ""
	}
	if u.User != nil {
		p.addf("URL must not contain a user or password: use Basic auth and save the password in its secure field")
		u.User = nil
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		p.addf("URL scheme %q is not supported: the URL must start with http:// or https://", u.Scheme)
		return ""
	case u.Host == "":
		p.addf("URL %q has no host: enter it as http://host:port", u.Redacted())
		return ""
	case u.RawQuery != "" || u.Fragment != "":
		p.addf("URL %q must not have a query string or fragment", u.Redacted())
		u.RawQuery, u.Fragment = "", ""
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if strings.HasSuffix(u.Path, "/loki/api/v1") {
		p.addf("URL %q ends with /loki/api/v1: enter only the server address (and path prefix, if any); the plugin adds the API path", u.Redacted())
		u.Path = strings.TrimSuffix(u.Path, "/loki/api/v1")
	}
	return u.String()
}

func urlErrorKind(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return "cannot be parsed"
}

func (p *problems) checkTenant(t string) string {
	t = strings.TrimSpace(t)
	switch {
	case t == "":
	case len(t) > maxTenantLength:
		p.addf("tenant is %d characters long: the limit is %d", len(t), maxTenantLength)
	case !tenantRE.MatchString(t):
		p.addf("tenant %q has characters lode does not accept: use letters, digits and !-_.*'() (and | to query several tenants)", t)
	case t == "." || t == "..":
		p.addf("tenant %q is not allowed", t)
	}
	return t
}

func (p *problems) loadAuth(s *Settings, in backend.DataSourceInstanceSettings, authType string) {
	sec := in.DecryptedSecureJSONData
	s.AuthType = strings.ToLower(strings.TrimSpace(authType))
	if s.AuthType == "" {
		switch {
		case in.BasicAuthEnabled:
			s.AuthType = AuthBasic
		case sec[SecureBearerToken] != "":
			s.AuthType = AuthBearer
		default:
			s.AuthType = AuthNone
		}
	}
	switch s.AuthType {
	case AuthNone:
	case AuthBasic:
		s.BasicAuthUser = in.BasicAuthUser
		s.basicAuthPassword = sec[SecureBasicAuthPassword]
		if s.BasicAuthUser == "" {
			p.addf("Basic auth is selected but the user is empty: enter the user")
		}
		if s.basicAuthPassword == "" {
			p.addf("Basic auth is selected but no password is saved: enter the password")
		}
	case AuthBearer:
		s.bearerToken = sec[SecureBearerToken]
		if s.bearerToken == "" {
			p.addf("bearer token auth is selected but no token is saved: enter the token")
		}
		if in.BasicAuthEnabled {
			p.addf("both Basic auth and a bearer token are enabled: choose one")
		}
	default:
		p.addf("auth type %q is unknown: choose none, basic or bearer", authType)
		s.AuthType = AuthNone
	}
}

func (p *problems) loadTLS(s *Settings, in backend.DataSourceInstanceSettings, jd jsonData) {
	sec := in.DecryptedSecureJSONData
	s.TLSSkipVerify = jd.TLSSkipVerify
	s.TLSServerName = strings.TrimSpace(jd.ServerName)
	if jd.TLSAuthWithCACert {
		s.TLSCACert = sec[SecureTLSCACert]
		if strings.TrimSpace(s.TLSCACert) == "" {
			p.addf("\"with CA cert\" is on but no CA certificate is saved: paste the CA certificate (PEM)")
		} else if !x509.NewCertPool().AppendCertsFromPEM([]byte(s.TLSCACert)) {
			p.addf("the CA certificate is not a PEM certificate: paste the text starting with -----BEGIN CERTIFICATE-----")
		}
	}
	if jd.TLSAuth {
		s.TLSClientCert, s.tlsClientKey = sec[SecureTLSClientCert], sec[SecureTLSClientKey]
		switch {
		case strings.TrimSpace(s.TLSClientCert) == "":
			p.addf("TLS client auth is on but no client certificate is saved: paste the client certificate (PEM)")
		case s.tlsClientKey == "":
			p.addf("TLS client auth is on but no client key is saved: paste the client key (PEM)")
		default:
			if _, err := tls.X509KeyPair([]byte(s.TLSClientCert), []byte(s.tlsClientKey)); err != nil {
				p.addf("the TLS client certificate and key cannot be used together: check that both are PEM and belong to each other")
			}
		}
	}
	if s.TLSServerName != "" && strings.HasPrefix(s.URL, "http://") {
		p.addf("a TLS server name is set but the URL uses http://: use https:// or clear the server name")
	}
}

// durationSeconds reads a number of seconds (number or numeric string) or a Go duration string.
func (p *problems) durationSeconds(name string, raw json.RawMessage, def, lo, hi time.Duration) time.Duration {
	txt, ok := scalarText(raw)
	if !ok {
		return def
	}
	var d time.Duration
	if f, err := strconv.ParseFloat(txt, 64); err == nil {
		d = time.Duration(f * float64(time.Second))
	} else if d, err = time.ParseDuration(txt); err != nil {
		p.addf("%s %q is not a number of seconds or a duration like 30s", name, txt)
		return def
	}
	if d < lo || d > hi {
		p.addf("%s must be between %s and %s, got %s", name, lo, hi, d)
		return def
	}
	return d
}

func (p *problems) intIn(name string, raw json.RawMessage, def, lo, hi int) int {
	txt, ok := scalarText(raw)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(txt)
	if err != nil {
		p.addf("%s %q is not a whole number", name, txt)
		return def
	}
	if n < lo || n > hi {
		p.addf("%s must be between %d and %d, got %d", name, lo, hi, n)
		return def
	}
	return n
}

// scalarText returns a JSON number or string as text; ok is false for absent, null or "".
func scalarText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		s = strings.TrimSpace(s)
		return s, s != ""
	}
	return strings.TrimSpace(string(raw)), true
}

func (p *problems) checkDerivedFields(in []DerivedField) []DerivedField {
	out := make([]DerivedField, 0, len(in))
	seen := map[string]bool{}
	for i, f := range in {
		where := fmt.Sprintf("derived field %d", i+1)
		if f.Name != "" {
			where += fmt.Sprintf(" (%q)", f.Name)
		}
		ok := true
		fail := func(format string, args ...any) { p.addf(where+": "+format, args...); ok = false }
		if strings.TrimSpace(f.Name) == "" {
			fail("has no name: enter the name of the field to create")
		} else if seen[f.Name] {
			fail("the name is used by another derived field: names must be unique")
		}
		seen[f.Name] = true
		switch f.MatcherType {
		case "", MatcherRegex:
			f.MatcherType = MatcherRegex
			re, err := regexp.Compile(f.MatcherRegex)
			switch {
			case f.MatcherRegex == "":
				fail("the regex is empty: enter a regex whose first group captures the value, e.g. traceID=(\\w+)")
			case err != nil:
				fail("the regex does not compile: %v", err)
			default:
				f.re = re
			}
		case MatcherLabel:
			if !labelNameRE.MatchString(f.MatcherRegex) {
				fail("%q is not a label name: enter the label whose value becomes the field", f.MatcherRegex)
			}
		default:
			fail("matcher type %q is unknown: choose regex or label", f.MatcherType)
		}
		if strings.TrimSpace(f.URL) == "" && f.DatasourceUID == "" {
			fail("has no URL: enter a URL (or an internal link query) using ${__value.raw}")
		}
		if ok {
			out = append(out, f)
		}
	}
	return out
}

func (p *problems) checkLabelMapping(in []LabelMapping) []LabelMapping {
	out := make([]LabelMapping, 0, len(in))
	seen := map[string]bool{}
	for i, m := range in {
		m.MetricsLabel, m.LogsLabel = strings.TrimSpace(m.MetricsLabel), strings.TrimSpace(m.LogsLabel)
		ok := true
		for _, n := range []struct{ what, v string }{{"metrics label", m.MetricsLabel}, {"logs label", m.LogsLabel}} {
			if !labelNameRE.MatchString(n.v) {
				p.addf("label mapping %d: %s %q is not a label name (letters, digits and _, not starting with a digit)", i+1, n.what, n.v)
				ok = false
			}
		}
		if seen[m.MetricsLabel] {
			p.addf("label mapping %d: metrics label %q is mapped twice: keep one mapping", i+1, m.MetricsLabel)
			ok = false
		}
		seen[m.MetricsLabel] = true
		if ok {
			out = append(out, m)
		}
	}
	return out
}

// authorization returns the Authorization header value for the configured auth.
func (s Settings) authorization() string {
	switch s.AuthType {
	case AuthBasic:
		return basicAuthHeader(s.BasicAuthUser, s.basicAuthPassword)
	case AuthBearer:
		return "Bearer " + s.bearerToken
	}
	return ""
}

// secrets returns every secret value, for redaction.
func (s Settings) secrets() []string {
	var out []string
	for _, v := range []string{s.basicAuthPassword, s.bearerToken, s.tlsClientKey} {
		if v != "" {
			out = append(out, v)
		}
	}
	if a := s.authorization(); a != "" {
		out = append(out, a, strings.TrimPrefix(strings.TrimPrefix(a, "Basic "), "Bearer "))
	}
	return out
}
