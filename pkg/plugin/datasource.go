package plugin

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/httpclient"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/lode-logs/lode/pkg/plugin/internal/lokiapi"
)

// ID is the plugin id, as in plugin.json.
const ID = "lode-logs-datasource"

// Compile-time checks of the handlers Grafana calls.
var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ backend.StreamHandler         = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// Options tune a Datasource beyond its Grafana settings (tests shorten the tail timings).
type Options struct {
	Logger log.Logger
	// TailBackoffMin and TailBackoffMax bound the wait before reconnecting a live tail.
	TailBackoffMin, TailBackoffMax time.Duration
	// TailPingPeriod is how often a live tail pings lode; a tail silent for two periods reconnects.
	TailPingPeriod time.Duration
	// Now returns the current time (health check window); nil means time.Now.
	Now func() time.Time
}

// Datasource is one configured Lode datasource: the plugin instance Grafana keeps per
// datasource and recreates when its settings change.
type Datasource struct {
	settings    Settings
	settingsErr error // non-nil: every call answers with this message
	api         *lokiapi.API
	httpClient  *http.Client
	logger      log.Logger
	opts        Options
	channels    *channelRegistry
}

// NewDatasource is the instance factory given to datasource.Manage.
func NewDatasource(_ context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	return New(s, Options{})
}

// New builds a Datasource. Invalid settings do not fail: the instance answers every call
// with the validation message, so that the user sees it in the UI.
func New(s backend.DataSourceInstanceSettings, o Options) (*Datasource, error) {
	if o.Logger == nil {
		o.Logger = backend.Logger
	}
	if o.TailBackoffMin <= 0 {
		o.TailBackoffMin = 500 * time.Millisecond
	}
	if o.TailBackoffMax < o.TailBackoffMin {
		o.TailBackoffMax = max(30*time.Second, o.TailBackoffMin)
	}
	if o.TailPingPeriod <= 0 {
		o.TailPingPeriod = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	d := &Datasource{opts: o, channels: newChannelRegistry(channelRegistrySize)}
	d.settings, d.settingsErr = LoadSettings(s)
	d.logger = o.Logger.With("datasource", s.UID)
	if d.settingsErr != nil {
		d.logger.Warn("Datasource settings are invalid", "error", d.settingsErr.Error())
		return d, nil
	}
	if err := d.connect(); err != nil {
		d.settingsErr = fmt.Errorf("%w: %s", ErrInvalidSettings, redact(err.Error(), d.settings.secrets()))
	}
	return d, nil
}

// connect builds the HTTP client and the API from valid settings.
func (d *Datasource) connect() error {
	s := d.settings
	opts := httpclient.Options{
		Timeouts: &httpclient.TimeoutOptions{
			Timeout:               s.Timeout,
			DialTimeout:           min(10*time.Second, s.Timeout),
			KeepAlive:             30 * time.Second,
			TLSHandshakeTimeout:   min(10*time.Second, s.Timeout),
			ExpectContinueTimeout: time.Second,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   100,
			IdleConnTimeout:       90 * time.Second,
		},
		TLS: &httpclient.TLSOptions{
			InsecureSkipVerify: s.TLSSkipVerify,
			ServerName:         s.TLSServerName,
			CACertificate:      s.TLSCACert,
			ClientCertificate:  s.TLSClientCert,
			ClientKey:          s.tlsClientKey,
		},
	}
	client, err := httpclient.New(opts)
	if err != nil {
		return fmt.Errorf("build HTTP client: %w", err)
	}
	tlsConf, err := httpclient.GetTLSConfig(opts)
	if err != nil {
		return fmt.Errorf("build TLS config: %w", err)
	}
	api, err := lokiapi.New(lokiapi.Options{
		BaseURL:          s.URL,
		Tenant:           s.Tenant,
		Authorization:    s.authorization(),
		HTTPClient:       client,
		UserAgent:        "lode-grafana-plugin",
		CategorizeLabels: true,
		TLS:              tlsConf,
		DialTimeout:      s.Timeout,
	})
	if err != nil {
		return err
	}
	d.api, d.httpClient = api, client
	return nil
}

// Dispose releases idle connections when Grafana drops the instance (settings changed).
func (d *Datasource) Dispose() {
	if d.httpClient != nil {
		d.httpClient.CloseIdleConnections()
	}
}

// Settings returns the loaded settings and their validation error, if any.
func (d *Datasource) Settings() (Settings, error) { return d.settings, d.settingsErr }

// redact replaces every secret in s, so that no message can carry one.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

func basicAuthHeader(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}
