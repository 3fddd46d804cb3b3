package config

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
	"gopkg.in/yaml.v3"
)

// Config is a lode-agent configuration: Promtail's schema, plus the
// buffer block.
type Config struct {
	Server        ServerConfig      `yaml:"server"`
	Clients       []ClientConfig    `yaml:"-"` // decoded from "clients" with the flag defaults
	Positions     PositionsConfig   `yaml:"positions"`
	ScrapeConfigs []ScrapeConfig    `yaml:"scrape_configs"`
	Limits        LimitsConfig      `yaml:"limits_config"`
	Target        TargetConfig      `yaml:"target_config"`
	Global        GlobalConfig      `yaml:"global"`
	Buffer        BufferConfig      `yaml:"buffer"`
	Options       OptionsConfig     `yaml:"options"`
	Tracing       TracingConfig     `yaml:"tracing"`
	ClientsNodes  []yaml.Node       `yaml:"clients"`
	ClientFlags   ClientConfig      `yaml:"-"` // the -client.* flags: defaults of every client
	ExtraLabels   map[string]string `yaml:"-"` // -client.external-labels, added to every client
	extraLabelsFl labelsFlag
}

// ServerConfig is the agent's own HTTP server (/metrics, /ready,
// /targets). Promtail's gRPC and timeout settings are accepted and ignored.
type ServerConfig struct {
	Disable                 bool          `yaml:"disable"`
	HTTPListenAddress       string        `yaml:"http_listen_address"`
	HTTPListenPort          int           `yaml:"http_listen_port"`
	LogLevel                string        `yaml:"log_level"`
	GracefulShutdownTimeout time.Duration `yaml:"graceful_shutdown_timeout"`
	HTTPPathPrefix          string        `yaml:"http_path_prefix"`
	HealthCheckTarget       *bool         `yaml:"health_check_target"`
	// Accepted for compatibility; lode-agent has no gRPC server.
	GRPCListenAddress       string        `yaml:"grpc_listen_address"`
	GRPCListenPort          int           `yaml:"grpc_listen_port"`
	RegisterInstrumentation *bool         `yaml:"register_instrumentation"`
	ProfilingEnabled        bool          `yaml:"profiling_enabled"`
	HTTPServerReadTimeout   time.Duration `yaml:"http_server_read_timeout"`
	HTTPServerWriteTimeout  time.Duration `yaml:"http_server_write_timeout"`
	HTTPServerIdleTimeout   time.Duration `yaml:"http_server_idle_timeout"`
	GRPCMaxRecvMsgSize      int           `yaml:"grpc_server_max_recv_msg_size"`
	GRPCMaxSendMsgSize      int           `yaml:"grpc_server_max_send_msg_size"`
	GRPCMaxConcurrent       int           `yaml:"grpc_server_max_concurrent_streams"`
	EnableRuntimeReload     bool          `yaml:"enable_runtime_reload"`
}

// ClientConfig is one push target (Promtail's client_config).
type ClientConfig struct {
	URL                    string                     `yaml:"url"`
	Headers                map[string]string          `yaml:"headers"`
	TenantID               string                     `yaml:"tenant_id"`
	BatchWait              time.Duration              `yaml:"batchwait"`
	BatchSize              ByteSize                   `yaml:"batchsize"`
	HTTP                   commoncfg.HTTPClientConfig `yaml:",inline"`
	Backoff                BackoffConfig              `yaml:"backoff_config"`
	DropRateLimitedBatches bool                       `yaml:"drop_rate_limited_batches"`
	ExternalLabels         map[string]string          `yaml:"external_labels"`
	Timeout                time.Duration              `yaml:"timeout"`
}

// BackoffConfig is the retry schedule of a client. MaxRetries 0 retries
// for ever.
type BackoffConfig struct {
	MinPeriod  time.Duration `yaml:"min_period"`
	MaxPeriod  time.Duration `yaml:"max_period"`
	MaxRetries int           `yaml:"max_retries"`
}

// PositionsConfig says where read offsets are kept.
type PositionsConfig struct {
	Filename          string        `yaml:"filename"`
	SyncPeriod        time.Duration `yaml:"sync_period"`
	IgnoreInvalidYAML bool          `yaml:"ignore_invalid_yaml"`
}

// LimitsConfig holds the agent-wide limits. Lines longer than MaxLineSize
// are truncated (MaxLineSizeTruncate) or else split into pieces of at most
// MaxLineSize bytes; both are counted.
type LimitsConfig struct {
	ReadlineRateEnabled bool     `yaml:"readline_rate_enabled"`
	ReadlineRate        float64  `yaml:"readline_rate"`
	ReadlineBurst       int      `yaml:"readline_burst"`
	ReadlineRateDrop    bool     `yaml:"readline_rate_drop"`
	MaxStreams          int      `yaml:"max_streams"`
	MaxLineSize         ByteSize `yaml:"max_line_size"`
	MaxLineSizeTruncate bool     `yaml:"max_line_size_truncate"`
}

// TargetConfig controls discovery of files. InitialPosition applies to
// files found at the first start (no positions file yet): "start" reads
// them whole, "end" only what is written afterwards. Files created later
// are always read from their start.
type TargetConfig struct {
	SyncPeriod      time.Duration `yaml:"sync_period"`
	InitialPosition string        `yaml:"initial_position"`
	IdleClose       time.Duration `yaml:"idle_close"`
	RotatedGrace    time.Duration `yaml:"rotated_grace"`
}

// GlobalConfig is Promtail's global block.
type GlobalConfig struct {
	FileWatch FileWatchConfig `yaml:"file_watch_config"`
}

// FileWatchConfig bounds how often a file is polled: a file that changed
// is polled at MinPollFrequency, an idle one backs off to MaxPollFrequency.
type FileWatchConfig struct {
	MinPollFrequency time.Duration `yaml:"min_poll_frequency"`
	MaxPollFrequency time.Duration `yaml:"max_poll_frequency"`
}

// BufferConfig bounds what a client holds while the server does not take
// it: MemorySize bytes of encoded batches in memory, then MaxSize bytes on
// disk under Directory; when both are full, reading stops.
type BufferConfig struct {
	Directory  string   `yaml:"directory"`
	MemorySize ByteSize `yaml:"memory_size"`
	MaxSize    ByteSize `yaml:"max_size"`
}

// OptionsConfig is accepted for compatibility.
type OptionsConfig struct {
	StreamLagLabels []string `yaml:"stream_lag_labels"`
}

// TracingConfig is accepted for compatibility; tracing is not supported.
type TracingConfig struct {
	Enabled bool `yaml:"enabled"`
}

// ScrapeConfig is one job: how targets are discovered, relabelled and
// processed.
type ScrapeConfig struct {
	JobName        string               `yaml:"job_name"`
	PipelineStages []yaml.Node          `yaml:"pipeline_stages"`
	RelabelConfigs []*relabel.Config    `yaml:"relabel_configs"`
	StaticConfigs  []StaticConfig       `yaml:"static_configs"`
	FileSDConfigs  []FileSDConfig       `yaml:"file_sd_configs"`
	KubernetesSD   []KubernetesSDConfig `yaml:"kubernetes_sd_configs"`
	Encoding       string               `yaml:"encoding"`
	Decompression  *DecompressionConfig `yaml:"decompression"`
	Unsupported    UnsupportedTargets   `yaml:",inline"`
}

// UnsupportedTargets are Promtail's non-file target kinds: recognised so
// that a config using them gets a clear error rather than "unknown key".
type UnsupportedTargets struct {
	Journal       yaml.Node `yaml:"journal"`
	Syslog        yaml.Node `yaml:"syslog"`
	LokiPushAPI   yaml.Node `yaml:"loki_push_api"`
	WindowsEvents yaml.Node `yaml:"windows_events"`
	GCPLog        yaml.Node `yaml:"gcplog"`
	AzureEventHub yaml.Node `yaml:"azure_event_hub"`
	Kafka         yaml.Node `yaml:"kafka"`
	GELF          yaml.Node `yaml:"gelf"`
	Cloudflare    yaml.Node `yaml:"cloudflare"`
	HerokuDrain   yaml.Node `yaml:"heroku_drain"`
	ConsulSD      yaml.Node `yaml:"consul_sd_configs"`
	ConsulAgentSD yaml.Node `yaml:"consulagent_sd_configs"`
	DockerSD      yaml.Node `yaml:"docker_sd_configs"`
}

func (u *UnsupportedTargets) first() (string, *yaml.Node) {
	for _, c := range []struct {
		key string
		n   *yaml.Node
	}{
		{"journal", &u.Journal}, {"syslog", &u.Syslog}, {"loki_push_api", &u.LokiPushAPI},
		{"windows_events", &u.WindowsEvents}, {"gcplog", &u.GCPLog}, {"azure_event_hub", &u.AzureEventHub},
		{"kafka", &u.Kafka}, {"gelf", &u.GELF}, {"cloudflare", &u.Cloudflare}, {"heroku_drain", &u.HerokuDrain},
		{"consul_sd_configs", &u.ConsulSD}, {"consulagent_sd_configs", &u.ConsulAgentSD}, {"docker_sd_configs", &u.DockerSD},
	} {
		if c.n.Kind != 0 {
			return c.key, c.n
		}
	}
	return "", nil
}

// DecompressionConfig is accepted only when disabled.
type DecompressionConfig struct {
	Enabled      bool          `yaml:"enabled"`
	InitialDelay time.Duration `yaml:"initial_delay"`
	Format       string        `yaml:"format"`
}

// StaticConfig is a target group: targets (ignored, Promtail reads local
// files only) and labels, among which __path__ and __path_exclude__.
type StaticConfig struct {
	Targets []string          `yaml:"targets"`
	Labels  map[string]string `yaml:"labels"`
}

// FileSDConfig reads target groups from files in Prometheus' file_sd
// format (YAML or JSON).
type FileSDConfig struct {
	Files           []string      `yaml:"files"`
	RefreshInterval time.Duration `yaml:"refresh_interval"`
}

// KubernetesSDConfig discovers pods through the Kubernetes API.
type KubernetesSDConfig struct {
	APIServer  string                     `yaml:"api_server"`
	Role       string                     `yaml:"role"`
	KubeConfig string                     `yaml:"kubeconfig_file"`
	HTTP       commoncfg.HTTPClientConfig `yaml:",inline"`
	Namespaces *NamespaceDiscovery        `yaml:"namespaces"`
	Selectors  []SelectorConfig           `yaml:"selectors"`
}

// NamespaceDiscovery restricts discovery to namespaces.
type NamespaceDiscovery struct {
	OwnNamespace bool     `yaml:"own_namespace"`
	Names        []string `yaml:"names"`
}

// SelectorConfig is a label and field selector for one role.
type SelectorConfig struct {
	Role  string `yaml:"role"`
	Label string `yaml:"label"`
	Field string `yaml:"field"`
}

// RegisterFlags registers the flags; their defaults are the only defaults.
func (c *Config) RegisterFlags(f *flag.FlagSet) {
	s := &c.Server
	f.StringVar(&s.HTTPListenAddress, "server.http-listen-address", "", "HTTP server listen address.")
	f.IntVar(&s.HTTPListenPort, "server.http-listen-port", 9080, "HTTP server listen port (0 picks a free port).")
	f.StringVar(&s.LogLevel, "log.level", "info", "Log level: debug, info, warn or error.")
	f.DurationVar(&s.GracefulShutdownTimeout, "server.graceful-shutdown-timeout", 30*time.Second, "How long a shutdown waits for buffered lines to be sent.")

	p := &c.Positions
	f.StringVar(&p.Filename, "positions.file", "/var/log/positions.yaml", "Positions file: read offsets acknowledged by the server.")
	f.DurationVar(&p.SyncPeriod, "positions.sync-period", 10*time.Second, "How often the positions file is written.")
	f.BoolVar(&p.IgnoreInvalidYAML, "positions.ignore-invalid-yaml", false, "Start afresh instead of failing when the positions file is corrupt.")

	cl := &c.ClientFlags
	f.StringVar(&cl.URL, "client.url", "", "Push URL of a client added to those of the config file.")
	f.StringVar(&cl.TenantID, "client.tenant-id", "", "Default tenant of clients.")
	f.DurationVar(&cl.BatchWait, "client.batch-wait", time.Second, "Default longest wait before a batch is sent.")
	cl.BatchSize = 1 << 20
	f.Var(&cl.BatchSize, "client.batch-size-bytes", "Default batch size in bytes.")
	f.DurationVar(&cl.Backoff.MinPeriod, "client.min-backoff", 500*time.Millisecond, "Default first retry delay.")
	f.DurationVar(&cl.Backoff.MaxPeriod, "client.max-backoff", 5*time.Minute, "Default longest retry delay.")
	f.IntVar(&cl.Backoff.MaxRetries, "client.max-retries", 0, "Default number of retries of a batch before it is dropped; 0 retries for ever.")
	f.DurationVar(&cl.Timeout, "client.timeout", 10*time.Second, "Default timeout of a push request.")
	f.Var(&c.extraLabelsFl, "client.external-labels", "Labels added to every line of every client: name=value,name=value.")

	l := &c.Limits
	f.BoolVar(&l.ReadlineRateEnabled, "limit.readline-rate-enabled", false, "Rate-limit lines read by the whole agent.")
	f.Float64Var(&l.ReadlineRate, "limit.readline-rate", 10000, "Lines per second when rate limiting is enabled.")
	f.IntVar(&l.ReadlineBurst, "limit.readline-burst", 10000, "Burst of lines when rate limiting is enabled.")
	f.BoolVar(&l.ReadlineRateDrop, "limit.readline-rate-drop", true, "Drop lines over the rate instead of waiting.")
	f.IntVar(&l.MaxStreams, "limit.max-streams", 0, "Largest number of streams in one batch (0: no limit).")
	l.MaxLineSize = 256 << 10
	f.Var(&l.MaxLineSize, "limit.max-line-size", "Longest line in bytes; longer ones are split (or truncated).")
	f.BoolVar(&l.MaxLineSizeTruncate, "limit.max-line-size-truncate", false, "Truncate lines longer than the limit instead of splitting them.")

	t := &c.Target
	f.DurationVar(&t.SyncPeriod, "target.sync-period", 10*time.Second, "How often globs are expanded again (fsnotify events also trigger it).")
	f.StringVar(&t.InitialPosition, "target.initial-position", "start", "Where files present at the first start are read from: start or end.")
	f.DurationVar(&t.IdleClose, "target.idle-close", time.Minute, "Close the descriptor of a file unchanged for this long (it is reopened on change).")
	f.DurationVar(&t.RotatedGrace, "target.rotated-grace", 2*time.Second, "How long a rotated or deleted file is kept open after its last change.")

	w := &c.Global.FileWatch
	f.DurationVar(&w.MinPollFrequency, "file-watch.min-poll-frequency", 250*time.Millisecond, "Poll period of a file that changed recently.")
	f.DurationVar(&w.MaxPollFrequency, "file-watch.max-poll-frequency", 250*time.Millisecond, "Longest poll period of an idle file.")

	b := &c.Buffer
	f.StringVar(&b.Directory, "buffer.directory", "", "Directory of the on-disk buffer (default: buffer/ beside the positions file).")
	b.MemorySize = 16 << 20
	f.Var(&b.MemorySize, "buffer.memory-size", "Encoded batches a client keeps in memory before spilling to disk.")
	b.MaxSize = 1 << 30
	f.Var(&b.MaxSize, "buffer.max-size", "Encoded batches a client keeps on disk while the server is unreachable; then reading stops.")
}

// Load reads the YAML file at path (after ${VAR} expansion when expandEnv)
// over the flag defaults already in c, then validates.
func (c *Config) Load(path string, expandEnv bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	if expandEnv {
		data = []byte(ExpandEnv(string(data)))
	}
	if err := c.Parse(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Parse decodes a YAML document over c (whose fields hold the flag
// defaults) and validates the result.
func (c *Config) Parse(data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(doc.Content) > 0 {
		if err := DecodeStrict(&doc, c, ""); err != nil {
			return err
		}
	}
	for i := range c.ClientsNodes {
		cc := c.ClientFlags
		cc.HTTP = commoncfg.DefaultHTTPClientConfig
		cc.URL = ""
		if err := DecodeStrict(&c.ClientsNodes[i], &cc, fmt.Sprintf("clients[%d]", i)); err != nil {
			return err
		}
		c.Clients = append(c.Clients, cc)
	}
	if c.ClientFlags.URL != "" {
		cc := c.ClientFlags
		cc.HTTP = commoncfg.DefaultHTTPClientConfig
		c.Clients = append(c.Clients, cc)
	}
	c.ExtraLabels = c.extraLabelsFl.m
	return c.Validate()
}

// Validate checks the configuration; errors name the setting at fault.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...)))
	}
	if len(c.Clients) == 0 {
		bad("clients: at least one client with a url is required (or -client.url)")
	}
	for i := range c.Clients {
		if err := c.Clients[i].validate(); err != nil {
			bad("clients[%d]: %v", i, err)
		}
	}
	if c.Positions.Filename == "" {
		bad("positions.filename must be set")
	}
	if c.Positions.SyncPeriod <= 0 {
		bad("positions.sync_period must be positive")
	}
	switch c.Target.InitialPosition {
	case "start", "end":
	default:
		bad("target_config.initial_position must be start or end, got %q", c.Target.InitialPosition)
	}
	if c.Target.SyncPeriod <= 0 {
		bad("target_config.sync_period must be positive")
	}
	if w := c.Global.FileWatch; w.MinPollFrequency <= 0 || w.MaxPollFrequency < w.MinPollFrequency {
		bad("global.file_watch_config: min_poll_frequency must be positive and not above max_poll_frequency")
	}
	if c.Limits.MaxLineSize < 0 {
		bad("limits_config.max_line_size must not be negative")
	}
	if c.Buffer.MaxSize < 0 || c.Buffer.MemorySize <= 0 {
		bad("buffer: memory_size must be positive and max_size not negative")
	}
	if c.Tracing.Enabled {
		bad("tracing.enabled: tracing is not supported by lode-agent")
	}
	names := map[string]bool{}
	for i := range c.ScrapeConfigs {
		sc := &c.ScrapeConfigs[i]
		if err := sc.validate(); err != nil {
			bad("scrape_configs[%d]: %v", i, err)
		}
		if names[sc.JobName] {
			bad("scrape_configs[%d]: duplicate job_name %q", i, sc.JobName)
		}
		names[sc.JobName] = true
	}
	for name := range c.ExtraLabels {
		if !model.LegacyValidation.IsValidLabelName(name) {
			bad("-client.external-labels: invalid label name %q", name)
		}
	}
	return errors.Join(errs...)
}

// BufferDir is the buffer directory: Buffer.Directory, or buffer/ beside
// the positions file.
func (c *Config) BufferDir() string {
	if c.Buffer.Directory != "" {
		return c.Buffer.Directory
	}
	return filepath.Join(filepath.Dir(c.Positions.Filename), "lode-agent-buffer")
}

func (cc *ClientConfig) validate() error {
	u, err := url.Parse(cc.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q must be an http or https URL with the push path, e.g. http://lode:3100/loki/api/v1/push", cc.URL)
	}
	if cc.BatchWait <= 0 || cc.BatchSize <= 0 || cc.Timeout <= 0 {
		return errors.New("batchwait, batchsize and timeout must be positive")
	}
	if cc.Backoff.MinPeriod <= 0 || cc.Backoff.MaxPeriod < cc.Backoff.MinPeriod || cc.Backoff.MaxRetries < 0 {
		return errors.New("backoff_config: min_period must be positive, max_period at least min_period, max_retries not negative")
	}
	for name := range cc.ExternalLabels {
		if !model.LegacyValidation.IsValidLabelName(name) {
			return fmt.Errorf("external_labels: invalid label name %q", name)
		}
	}
	if err := cc.HTTP.Validate(); err != nil {
		return err
	}
	return nil
}

func (sc *ScrapeConfig) validate() error {
	if sc.JobName == "" {
		return errors.New("job_name is required")
	}
	if key, n := sc.Unsupported.first(); n != nil {
		return fmt.Errorf("line %d: %s: not supported by lode-agent, which reads files only (static_configs, file_sd_configs, kubernetes_sd_configs)", n.Line, key)
	}
	if sc.Decompression != nil && sc.Decompression.Enabled {
		return errors.New("decompression: compressed files are not supported")
	}
	if sc.Encoding != "" && !strings.EqualFold(sc.Encoding, "utf-8") && !strings.EqualFold(sc.Encoding, "utf8") {
		return fmt.Errorf("encoding %q is not supported: lines are sent byte for byte", sc.Encoding)
	}
	for i, rc := range sc.RelabelConfigs {
		if rc == nil {
			return fmt.Errorf("relabel_configs[%d] is empty", i)
		}
		if err := rc.Validate(model.LegacyValidation); err != nil {
			return fmt.Errorf("relabel_configs[%d]: %w", i, err)
		}
	}
	for i, k := range sc.KubernetesSD {
		if k.Role != "pod" {
			return fmt.Errorf("kubernetes_sd_configs[%d]: role %q is not supported: use pod", i, k.Role)
		}
		for _, s := range k.Selectors {
			if s.Role != "pod" {
				return fmt.Errorf("kubernetes_sd_configs[%d].selectors: role %q is not supported: use pod", i, s.Role)
			}
		}
	}
	for i, f := range sc.FileSDConfigs {
		if len(f.Files) == 0 {
			return fmt.Errorf("file_sd_configs[%d]: files is required", i)
		}
		for _, p := range f.Files {
			ext := filepath.Ext(p)
			if ext != ".json" && ext != ".yml" && ext != ".yaml" {
				return fmt.Errorf("file_sd_configs[%d]: %q must end in .json, .yml or .yaml", i, p)
			}
		}
	}
	return nil
}

// labelsFlag is a name=value,name=value flag.
type labelsFlag struct{ m map[string]string }

func (l *labelsFlag) String() string {
	var parts []string
	for k, v := range l.m {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (l *labelsFlag) Set(s string) error {
	if l.m == nil {
		l.m = map[string]string{}
	}
	for _, kv := range strings.Split(s, ",") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("%q is not name=value", kv)
		}
		l.m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return nil
}

// ExpandEnv replaces ${VAR} and ${VAR:-default} with environment values
// (undefined variables without a default become empty), as Promtail's
// -config.expand-env does.
func ExpandEnv(s string) string {
	return os.Expand(s, func(name string) string {
		key, def, hasDef := strings.Cut(name, ":-")
		if v, ok := os.LookupEnv(key); ok && (v != "" || !hasDef) {
			return v
		}
		return def
	})
}
