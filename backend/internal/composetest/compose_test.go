package composetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/lode-logs/lode/backend/config"
	"github.com/lode-logs/lode/backend/logql"
)

// composeFile is the part of docker-compose.yaml the checks read.
type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string            `yaml:"image"`
	Build       *buildSpec        `yaml:"build"`
	Hostname    string            `yaml:"hostname"`
	Entrypoint  []string          `yaml:"entrypoint"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   []string          `yaml:"depends_on"`
	Labels      map[string]string `yaml:"labels"`
}

type buildSpec struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
	Target     string `yaml:"target"`
}

// mount is one entry of a service's volumes.
type mount struct {
	Source, Target string
	ReadOnly, Bind bool
}

func (s service) mounts(t *testing.T) []mount {
	t.Helper()
	var out []mount
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 3 {
			t.Errorf("volume %q is not source:target[:mode]", v)
			continue
		}
		m := mount{Source: parts[0], Target: parts[1], Bind: strings.HasPrefix(parts[0], ".") || strings.HasPrefix(parts[0], "/")}
		m.ReadOnly = len(parts) == 3 && parts[2] == "ro"
		out = append(out, m)
	}
	return out
}

// containerPorts returns the published container ports of a service.
func (s service) containerPorts(t *testing.T) []int {
	t.Helper()
	var out []int
	for _, p := range s.Ports {
		i := strings.LastIndex(p, ":")
		n, err := strconv.Atoi(p[i+1:])
		if err != nil {
			t.Errorf("port %q is not host:container", p)
			continue
		}
		out = append(out, n)
	}
	return out
}

func (s service) host(name string) string {
	if s.Hostname != "" {
		return s.Hostname
	}
	return name
}

// stack is the parsed compose file with the repository it lives in.
type stack struct {
	root    string
	compose composeFile
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

func loadStack(t *testing.T) *stack {
	t.Helper()
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yaml"))
	if err != nil {
		t.Fatalf("read docker-compose.yaml: %v", err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("parse docker-compose.yaml: %v", err)
	}
	if len(c.Services) == 0 {
		t.Fatal("docker-compose.yaml has no services")
	}
	return &stack{root: root, compose: c}
}

func (s *stack) path(rel string) string { return filepath.Join(s.root, filepath.FromSlash(rel)) }

// lodeServices returns the services that run the lode server, by name, sorted.
func (s *stack) lodeServices() []string {
	var out []string
	for name, svc := range s.compose.Services {
		if svc.Build != nil && svc.Build.Target == "lode" && len(svc.Entrypoint) == 0 {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// mountOf returns the mount of a service whose target is, or contains, a container path.
func mountOf(ms []mount, containerPath string) (mount, bool) {
	for _, m := range ms {
		if containerPath == m.Target || strings.HasPrefix(containerPath, strings.TrimSuffix(m.Target, "/")+"/") {
			return m, true
		}
	}
	return mount{}, false
}

// dockerfileStages returns the stage names and the whole text of a Dockerfile.
func dockerfileStages(t *testing.T, file string) (map[string]bool, string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	stages := map[string]bool{}
	re := regexp.MustCompile(`(?im)^FROM\s+\S+\s+AS\s+(\S+)\s*$`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		stages[strings.ToLower(m[1])] = true
	}
	return stages, string(b)
}

func TestBuildsAndFiles(t *testing.T) {
	s := loadStack(t)
	for name, svc := range s.compose.Services {
		t.Run(name, func(t *testing.T) {
			if svc.Build == nil && svc.Image == "" {
				t.Fatal("neither build nor image")
			}
			if svc.Build != nil {
				checkBuild(t, s, svc.Build)
			}
			for _, m := range svc.mounts(t) {
				checkMount(t, s, m)
			}
		})
	}
}

func checkBuild(t *testing.T, s *stack, b *buildSpec) {
	t.Helper()
	ctx := s.path(b.Context)
	if fi, err := os.Stat(ctx); err != nil || !fi.IsDir() {
		t.Fatalf("build context %s is not a directory", b.Context)
	}
	df := filepath.Join(ctx, filepath.FromSlash(b.Dockerfile))
	stages, text := dockerfileStages(t, df)
	if b.Target != "" && !stages[strings.ToLower(b.Target)] {
		t.Errorf("%s has no stage %q (stages: %v)", b.Dockerfile, b.Target, stages)
	}
	// Every file the Dockerfile copies from the context, and every command it builds, exists.
	copyRE := regexp.MustCompile(`(?m)^COPY\s+([^-\n][^\n]*)$`)
	for _, m := range copyRE.FindAllStringSubmatch(text, -1) {
		fields := strings.Fields(m[1])
		for _, src := range fields[:len(fields)-1] {
			if _, err := os.Stat(filepath.Join(ctx, filepath.FromSlash(src))); err != nil {
				t.Errorf("%s copies %s, which does not exist", b.Dockerfile, src)
			}
		}
	}
	buildRE := regexp.MustCompile(`go build [^\n]*?-o /out/(\S+) \./(\S+)`)
	for _, m := range buildRE.FindAllStringSubmatch(text, -1) {
		if _, err := os.Stat(filepath.Join(ctx, filepath.FromSlash(m[2]))); err != nil {
			t.Errorf("%s builds ./%s, which does not exist", b.Dockerfile, m[2])
		}
	}
	// The MinIO image is the version the tests run against.
	if mm := regexp.MustCompile(`MINIO_MODULE=(\S+)`).FindStringSubmatch(text); mm != nil {
		mage, err := os.ReadFile(s.path("Magefile.go"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(mage), `"`+mm[1]+`"`) {
			t.Errorf("%s installs %s, which is not the minioModule of Magefile.go", b.Dockerfile, mm[1])
		}
	}
}

// buildOutputs are bind-mounted folders made by the builds rather than kept in the repository.
var buildOutputs = map[string]func(s *stack) error{
	"./dist": func(s *stack) error {
		wp, err := os.ReadFile(s.path(".config/webpack.config.js"))
		if err != nil {
			return err
		}
		mage, err := os.ReadFile(s.path("Magefile.go"))
		if err != nil {
			return err
		}
		if !strings.Contains(string(wp), "path.join(root, 'dist')") || !strings.Contains(string(mage), `"dist"`) {
			return fmt.Errorf("neither the webpack build nor the plugin backend build writes dist/")
		}
		return nil
	},
}

// hostLogDirs are host paths the agent may read (read-only).
var hostLogDirs = []string{"/var/log", "/var/lib/docker/containers"}

func checkMount(t *testing.T, s *stack, m mount) {
	t.Helper()
	switch {
	case !m.Bind:
		if _, ok := s.compose.Volumes[m.Source]; !ok {
			t.Errorf("named volume %s is not declared under volumes:", m.Source)
		}
	case strings.HasPrefix(m.Source, "/"):
		if !slices.Contains(hostLogDirs, m.Source) || !m.ReadOnly {
			t.Errorf("host path %s: only %v may be mounted, read-only", m.Source, hostLogDirs)
		}
	default:
		if check, ok := buildOutputs[m.Source]; ok {
			if err := check(s); err != nil {
				t.Errorf("%s: %v", m.Source, err)
			}
			return
		}
		if _, err := os.Stat(s.path(m.Source)); err != nil {
			t.Errorf("bind mount source %s does not exist", m.Source)
		}
	}
	if !filepath.IsAbs(m.Target) {
		t.Errorf("mount target %s is not absolute", m.Target)
	}
}

// lodeConfig loads a lode service's command line with lode's own loader.
func lodeConfig(t *testing.T, svc service) *config.Config {
	t.Helper()
	var out bytes.Buffer
	cfg, err := config.Load(svc.Command, &out)
	if err != nil {
		t.Fatalf("lode rejects the command line %v: %v\n%s", svc.Command, err, out.String())
	}
	return cfg
}

func splitHostPort(t *testing.T, what, hp string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		t.Fatalf("%s %q is not host:port: %v", what, hp, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("%s %q has a bad port", what, hp)
	}
	return h, n
}

// minioPorts returns the API and console ports MinIO listens on, from its command line.
func minioPorts(t *testing.T, svc service) (api, console int) {
	t.Helper()
	api = 9000
	for i := 0; i+1 < len(svc.Command); i++ {
		switch svc.Command[i] {
		case "--address":
			_, api = splitHostPort(t, "minio --address", svc.Command[i+1])
		case "--console-address":
			_, console = splitHostPort(t, "minio --console-address", svc.Command[i+1])
		}
	}
	return api, console
}

func TestLodeCluster(t *testing.T) {
	s := loadStack(t)
	names := s.lodeServices()
	if len(names) != 3 {
		t.Fatalf("want a three-node lode cluster, found lode services %v", names)
	}
	raftAddrs := map[string]string{} // raft address → service
	nodeIDs := map[string]bool{}
	cfgs := map[string]*config.Config{}
	for _, name := range names {
		svc := s.compose.Services[name]
		cfg := lodeConfig(t, svc)
		cfgs[name] = cfg
		host, _ := splitHostPort(t, "-cluster.raft-address", cfg.Cluster.RaftAddress)
		if host != svc.host(name) {
			t.Errorf("%s: -cluster.raft-address host %s is not the service's host name %s", name, host, svc.host(name))
		}
		raftAddrs[net.JoinHostPort(host, strconv.Itoa(cfg.Server.GRPCListenPort))] = name
		if cfg.Cluster.NodeID == "" || nodeIDs[cfg.Cluster.NodeID] {
			t.Errorf("%s: node id %q is empty or used twice", name, cfg.Cluster.NodeID)
		}
		nodeIDs[cfg.Cluster.NodeID] = true
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			svc, cfg := s.compose.Services[name], cfgs[name]
			checkLodeNode(t, s, name, svc, cfg, raftAddrs, len(names))
		})
	}
	// Exactly one node bootstraps the cluster; the others join it.
	var bootstrap []string
	for _, name := range names {
		if len(cfgs[name].Cluster.Join) == 0 {
			bootstrap = append(bootstrap, name)
		}
	}
	if len(bootstrap) != 1 {
		t.Errorf("nodes without -cluster.join (they bootstrap a cluster each): %v, want exactly one", bootstrap)
	}
}

func checkLodeNode(t *testing.T, s *stack, name string, svc service, cfg *config.Config, nodeAddrs map[string]string, nodes int) {
	if !slices.Contains(svc.containerPorts(t), cfg.Server.HTTPListenPort) {
		t.Errorf("publishes %v but lode listens on %d", svc.Ports, cfg.Server.HTTPListenPort)
	}
	if m, ok := mountOf(svc.mounts(t), cfg.DataDir); !ok || m.Bind {
		t.Errorf("-data.dir %s is not on a named volume, so the node would lose its data", cfg.DataDir)
	}
	if cfg.Cluster.Voters != nodes {
		t.Errorf("-cluster.voters=%d, the cluster has %d nodes", cfg.Cluster.Voters, nodes)
	}
	for _, j := range cfg.Cluster.Join {
		target, ok := nodeAddrs[j]
		switch {
		case !ok:
			t.Errorf("-cluster.join %s is no lode node's gRPC address (raft host and -server.grpc-listen-port)", j)
		case target == name:
			t.Errorf("-cluster.join %s is the node itself", j)
		case !slices.Contains(svc.DependsOn, target):
			t.Errorf("joins %s but does not depend on it", target)
		}
	}
	if cfg.Storage.Backend != "s3" {
		t.Fatalf("-storage.backend=%s: the cluster shares chunks through MinIO (s3)", cfg.Storage.Backend)
	}
	host, port := splitHostPort(t, "-storage.s3.endpoint", cfg.Storage.S3.Endpoint)
	minio, ok := s.compose.Services[host]
	if !ok {
		t.Fatalf("-storage.s3.endpoint host %s is not a service", host)
	}
	if api, _ := minioPorts(t, minio); api != port {
		t.Errorf("-storage.s3.endpoint port %d, MinIO listens on %d", port, api)
	}
	if !cfg.Storage.S3.Insecure {
		t.Error("MinIO in the stack speaks plain HTTP: -storage.s3.insecure is needed")
	}
	if cfg.Storage.S3.AccessKeyID == "" && (svc.Environment["MINIO_ROOT_USER"] != minio.Environment["MINIO_ROOT_USER"] || svc.Environment["MINIO_ROOT_PASSWORD"] != minio.Environment["MINIO_ROOT_PASSWORD"]) {
		t.Error("lode takes MinIO's credentials from MINIO_ROOT_USER/PASSWORD, which differ from MinIO's")
	}
	if !slices.Contains(svc.DependsOn, host) {
		t.Errorf("uses %s but does not depend on it", host)
	}
}

func TestPortsAreUnique(t *testing.T) {
	s := loadStack(t)
	seen := map[string]string{}
	for name, svc := range s.compose.Services {
		for _, p := range svc.Ports {
			host := p[:strings.LastIndex(p, ":")]
			if other, ok := seen[host]; ok {
				t.Errorf("host port %s is published by %s and %s", host, other, name)
			}
			seen[host] = name
		}
	}
	minio := s.compose.Services["minio"]
	api, console := minioPorts(t, minio)
	for _, want := range []int{api, console} {
		if !slices.Contains(minio.containerPorts(t), want) {
			t.Errorf("minio listens on %d but does not publish it", want)
		}
	}
	if !slices.Contains(s.compose.Services["grafana"].containerPorts(t), 3000) {
		t.Error("grafana listens on 3000 but does not publish it")
	}
	if !slices.Contains(s.compose.Services["prometheus"].containerPorts(t), 9090) {
		t.Error("prometheus listens on 9090 but does not publish it")
	}
}

// agentBinary builds lode-agent into a temporary directory.
func agentBinary(t *testing.T, root string) string {
	t.Helper()
	dir := filepath.Join(root, "backend", "cmd", "lode-agent")
	goFiles, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	if len(goFiles) == 0 {
		t.Skip("backend/cmd/lode-agent has no Go files yet: the agent's flags cannot be checked")
	}
	bin := filepath.Join(t.TempDir(), "lode-agent")
	build := exec.Command("go", "build", "-o", bin, "./backend/cmd/lode-agent")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build lode-agent: %v\n%s", err, out)
	}
	return bin
}

// agentFlags reads the flag names from lode-agent -help.
func agentFlags(t *testing.T, bin string) map[string]bool {
	t.Helper()
	var out bytes.Buffer
	help := exec.Command(bin, "-help")
	help.Stdout, help.Stderr = &out, &out
	_ = help.Run() // -help exits non-zero with the flag package
	flags := map[string]bool{}
	sc := bufio.NewScanner(&out)
	re := regexp.MustCompile(`^\s+-{1,2}([A-Za-z0-9][\w.-]*)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			flags[m[1]] = true
		}
	}
	if len(flags) == 0 {
		t.Fatalf("lode-agent -help lists no flags:\n%s", out.String())
	}
	return flags
}

// agentConfig is the part of the Promtail-format agent config the checks read.
type agentConfig struct {
	Positions struct {
		Filename string `yaml:"filename"`
	} `yaml:"positions"`
	Clients []struct {
		URL string `yaml:"url"`
	} `yaml:"clients"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		StaticConfigs []struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func TestAgent(t *testing.T) {
	s := loadStack(t)
	svc, ok := s.compose.Services["lode-agent"]
	if !ok {
		t.Fatal("no lode-agent service")
	}
	ms := svc.mounts(t)
	var cfgFile string
	for _, arg := range svc.Command {
		if v, ok := strings.CutPrefix(arg, "-config.file="); ok {
			cfgFile = v
		}
	}
	m, ok := mountOf(ms, cfgFile)
	if !ok || !m.Bind {
		t.Fatalf("-config.file %q is not a bind-mounted file", cfgFile)
	}
	b, err := os.ReadFile(s.path(m.Source))
	if err != nil {
		t.Fatal(err)
	}
	var ac agentConfig
	if err := yaml.Unmarshal(b, &ac); err != nil {
		t.Fatalf("parse %s: %v", m.Source, err)
	}
	t.Run("config", func(t *testing.T) { checkAgentConfig(t, s, ms, ac) })
	t.Run("entrypoint", func(t *testing.T) {
		_, text := dockerfileStages(t, s.path(filepath.Join(svc.Build.Context, svc.Build.Dockerfile)))
		bin := filepath.Base(svc.Entrypoint[0])
		if !strings.Contains(text, "-o /out/"+bin+" ") {
			t.Errorf("entrypoint %s is not built by the Dockerfile", svc.Entrypoint[0])
		}
	})
	t.Run("flags and config", func(t *testing.T) {
		bin := agentBinary(t, s.root)
		check := exec.Command(bin, "-check-config", "-config.file="+s.path(m.Source))
		if out, err := check.CombinedOutput(); err != nil {
			t.Errorf("lode-agent -check-config rejects %s: %v\n%s", m.Source, err, out)
		}
		flags := agentFlags(t, bin)
		for _, arg := range svc.Command {
			name := strings.TrimLeft(strings.SplitN(arg, "=", 2)[0], "-")
			if !flags[name] {
				t.Errorf("lode-agent has no flag -%s", name)
			}
		}
	})
}

func checkAgentConfig(t *testing.T, s *stack, ms []mount, ac agentConfig) {
	if m, ok := mountOf(ms, ac.Positions.Filename); !ok || m.Bind || m.ReadOnly {
		t.Errorf("positions file %s is not on a writable named volume", ac.Positions.Filename)
	}
	if len(ac.Clients) == 0 {
		t.Fatal("no clients")
	}
	for _, c := range ac.Clients {
		checkLodeURL(t, s, "agent client", c.URL, "/loki/api/v1/push")
	}
	for _, sc := range ac.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			p := st.Labels["__path__"]
			dir := p[:strings.IndexAny(p+"*", "*")]
			if m, ok := mountOf(ms, strings.TrimSuffix(dir, "/")); !ok || !m.ReadOnly {
				t.Errorf("job %s tails %s, which is not under a read-only mount", sc.JobName, p)
			}
		}
	}
}

// checkLodeURL checks that a URL points at a lode service's HTTP port, with the given path.
func checkLodeURL(t *testing.T, s *stack, what, raw, wantPath string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s URL %q: %v", what, raw, err)
	}
	host, port := splitHostPort(t, what+" URL", u.Host)
	svc, ok := s.compose.Services[host]
	if !ok || !slices.Contains(s.lodeServices(), host) {
		t.Fatalf("%s URL %s does not point at a lode service", what, raw)
	}
	if cfg := lodeConfig(t, svc); cfg.Server.HTTPListenPort != port {
		t.Errorf("%s URL port %d, %s listens on %d", what, port, host, cfg.Server.HTTPListenPort)
	}
	if u.Path != wantPath {
		t.Errorf("%s URL path %q, want %q", what, u.Path, wantPath)
	}
}

func TestPrometheusScrapesEveryNode(t *testing.T) {
	s := loadStack(t)
	svc := s.compose.Services["prometheus"]
	var file string
	for _, arg := range svc.Command {
		if v, ok := strings.CutPrefix(arg, "--config.file="); ok {
			file = v
		}
	}
	m, ok := mountOf(svc.mounts(t), file)
	if !ok || !m.Bind {
		t.Fatalf("--config.file %q is not a bind-mounted file", file)
	}
	var pc struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			MetricsPath   string `yaml:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	b, err := os.ReadFile(s.path(m.Source))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &pc); err != nil {
		t.Fatalf("parse %s: %v", m.Source, err)
	}
	var want, got []string
	for _, name := range s.lodeServices() {
		want = append(want, fmt.Sprintf("%s:%d", name, lodeConfig(t, s.compose.Services[name]).Server.HTTPListenPort))
	}
	for _, sc := range pc.ScrapeConfigs {
		if sc.JobName != "lode" {
			continue
		}
		if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
			t.Errorf("job lode scrapes %s, lode serves /metrics", sc.MetricsPath)
		}
		for _, st := range sc.StaticConfigs {
			got = append(got, st.Targets...)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("job lode scrapes %v, want every lode node %v", got, want)
	}
}

// provisionedDatasource is one datasource of Grafana's provisioning files.
type provisionedDatasource struct {
	Name         string         `yaml:"name"`
	UID          string         `yaml:"uid"`
	Type         string         `yaml:"type"`
	URL          string         `yaml:"url"`
	JSONData     map[string]any `yaml:"jsonData"`
	Correlations []struct {
		TargetUID string `yaml:"targetUID"`
		Type      string `yaml:"type"`
		Config    struct {
			Type   string         `yaml:"type"`
			Field  string         `yaml:"field"`
			Target map[string]any `yaml:"target"`
		} `yaml:"config"`
	} `yaml:"correlations"`
}

func pluginID(t *testing.T, s *stack) string {
	t.Helper()
	b, err := os.ReadFile(s.path("plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pj struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &pj); err != nil {
		t.Fatalf("parse plugin.json: %v", err)
	}
	return pj.ID
}

// grafanaMount returns the repository folder mounted at a container path of the grafana service.
func grafanaMount(t *testing.T, s *stack, target string) string {
	t.Helper()
	for _, m := range s.compose.Services["grafana"].mounts(t) {
		if m.Target == target {
			return m.Source
		}
	}
	t.Fatalf("grafana does not mount anything at %s", target)
	return ""
}

func TestGrafana(t *testing.T) {
	s := loadStack(t)
	id := pluginID(t, s)
	g := s.compose.Services["grafana"]
	if got := g.Environment["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"]; got != id {
		t.Errorf("unsigned plugins allowed: %q, want only %q", got, id)
	}
	if src := grafanaMount(t, s, "/var/lib/grafana/plugins/"+id); src != "./dist" {
		t.Errorf("the plugin folder comes from %s, want ./dist", src)
	}
	dsDir := grafanaMount(t, s, "/etc/grafana/provisioning/datasources")
	dss := readDatasources(t, s.path(dsDir))
	uids := map[string]provisionedDatasource{}
	for _, ds := range dss {
		uids[ds.UID] = ds
	}
	t.Run("lode datasource", func(t *testing.T) {
		var found bool
		for _, ds := range dss {
			if ds.Type == id {
				found = true
				checkLodeURL(t, s, "datasource "+ds.Name, ds.URL, "")
				if _, ok := ds.JSONData["labelMapping"]; !ok {
					t.Error("no labelMapping: the metrics-to-logs jump needs job → app")
				}
			}
		}
		if !found {
			t.Fatalf("no datasource of type %s", id)
		}
	})
	t.Run("correlation", func(t *testing.T) {
		var n int
		for _, ds := range dss {
			for _, c := range ds.Correlations {
				n++
				target, ok := uids[c.TargetUID]
				if !ok || target.Type != id {
					t.Errorf("correlation of %s targets %q, not the Lode datasource", ds.Name, c.TargetUID)
				}
				if c.Type != "query" && c.Config.Type != "query" {
					t.Errorf("correlation of %s is not of type query", ds.Name)
				}
				expr, _ := c.Config.Target["expr"].(string)
				checkLogQL(t, "correlation target", expr)
			}
		}
		if n == 0 {
			t.Error("no correlation from Prometheus to Lode")
		}
	})
	t.Run("prometheus datasource", func(t *testing.T) {
		for _, ds := range dss {
			if ds.Type != "prometheus" {
				continue
			}
			u, err := url.Parse(ds.URL)
			if err != nil {
				t.Fatal(err)
			}
			host, port := splitHostPort(t, "prometheus URL", u.Host)
			if _, ok := s.compose.Services[host]; !ok || port != 9090 {
				t.Errorf("prometheus URL %s is not the prometheus service", ds.URL)
			}
		}
	})
	t.Run("dashboards", func(t *testing.T) {
		checkDashboards(t, s, grafanaMount(t, s, "/etc/grafana/provisioning/dashboards"), uids)
	})
}

func readDatasources(t *testing.T, dir string) []provisionedDatasource {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var out []provisionedDatasource
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Datasources []provisionedDatasource `yaml:"datasources"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		out = append(out, doc.Datasources...)
	}
	if len(out) == 0 {
		t.Fatalf("no datasources provisioned in %s", dir)
	}
	return out
}

// checkLogQL parses a query with lode's own parser, Grafana's variables replaced by values.
func checkLogQL(t *testing.T, what, expr string) {
	t.Helper()
	if strings.TrimSpace(expr) == "" {
		t.Errorf("%s: empty query", what)
		return
	}
	q := regexp.MustCompile(`\$__(auto|interval|range)\b`).ReplaceAllString(expr, "1m")
	q = regexp.MustCompile(`\$\{?\w+\}?`).ReplaceAllString(q, "x")
	if _, err := logql.Parse(q); err != nil {
		t.Errorf("%s %q does not parse: %v", what, expr, err)
	}
}

func checkDashboards(t *testing.T, s *stack, dir string, uids map[string]provisionedDatasource) {
	b, err := os.ReadFile(filepath.Join(s.path(dir), "dashboards.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var prov struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal(b, &prov); err != nil || len(prov.Providers) == 0 {
		t.Fatalf("parse dashboards.yaml: %v", err)
	}
	if p := prov.Providers[0].Options.Path; p != "/etc/grafana/provisioning/dashboards" {
		t.Errorf("dashboards are read from %s, which is not where they are mounted", p)
	}
	files, _ := filepath.Glob(filepath.Join(s.path(dir), "*.json"))
	if len(files) == 0 {
		t.Fatal("no dashboard")
	}
	for _, f := range files {
		checkDashboard(t, f, uids)
	}
}

type dsRef struct {
	UID  string `json:"uid"`
	Type string `json:"type"`
}

func checkDashboard(t *testing.T, file string, uids map[string]provisionedDatasource) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Type       string `json:"type"`
			Datasource dsRef  `json:"datasource"`
			Targets    []struct {
				Expr       string `json:"expr"`
				Datasource dsRef  `json:"datasource"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Datasource dsRef  `json:"datasource"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.NewDecoder(io.LimitReader(bytes.NewReader(raw), 1<<20)).Decode(&d); err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	refOK := func(what string, r dsRef) {
		if ds, ok := uids[r.UID]; !ok || ds.Type != r.Type {
			t.Errorf("%s: %s uses datasource %+v, which is not provisioned", filepath.Base(file), what, r)
		}
	}
	kinds := map[string]bool{}
	for _, p := range d.Panels {
		kinds[p.Type] = true
		refOK("panel "+p.Type, p.Datasource)
		for _, tg := range p.Targets {
			refOK("target", tg.Datasource)
			checkLogQL(t, "panel "+p.Type, tg.Expr)
		}
	}
	if !kinds["logs"] || !kinds["timeseries"] {
		t.Errorf("%s: want a logs panel and a log-volume time series panel, have %v", filepath.Base(file), kinds)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		if v.Type == "query" {
			refOK("variable "+v.Name, v.Datasource)
		}
	}
	for _, want := range []string{"namespace", "app"} {
		if !vars[want] {
			t.Errorf("%s: no template variable %s", filepath.Base(file), want)
		}
	}
}
