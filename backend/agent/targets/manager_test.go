package targets

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"gopkg.in/yaml.v3"

	"github.com/lode-logs/lode/backend/agent/discovery"
	"github.com/lode-logs/lode/backend/agent/tailer"
)

type fixed []discovery.Group

func (f fixed) Run(ctx context.Context, up discovery.Updater) { up(f) }

type recorder struct {
	mu sync.Mutex
	ts []tailer.Target
}

func (r *recorder) SetTargets(ts []tailer.Target) {
	r.mu.Lock()
	r.ts = ts
	r.mu.Unlock()
}

func relabels(t *testing.T, src string) []*relabel.Config {
	t.Helper()
	var cfgs []*relabel.Config
	if err := yaml.Unmarshal([]byte(src), &cfgs); err != nil {
		t.Fatal(err)
	}
	for _, c := range cfgs {
		if err := c.Validate(model.LegacyValidation); err != nil {
			t.Fatal(err)
		}
	}
	return cfgs
}

// TestRelabel checks Prometheus' relabelling semantics on file targets.
func TestRelabel(t *testing.T) {
	group := discovery.Group{Source: "g", Labels: model.LabelSet{"__path__": "/var/log/a.log", "env": "prod"},
		Targets: []model.LabelSet{{"__address__": "localhost", "__meta_kubernetes_pod_label_app": "api", "__meta_kubernetes_pod_uid": "u1", "__meta_kubernetes_pod_container_name": "c"}}}
	tests := []struct {
		name     string
		relabel  string
		host     string
		want     string // labels of the target, "" when dropped
		wantPath string
	}{
		{"no relabelling keeps non-__ labels", `[]`, "", `{env="prod"}`, "/var/log/a.log"},
		{"keep matching", `[{action: keep, source_labels: [env], regex: prod}]`, "", `{env="prod"}`, "/var/log/a.log"},
		{"keep not matching", `[{action: keep, source_labels: [env], regex: dev}]`, "", "", ""},
		{"drop matching", `[{action: drop, source_labels: [env], regex: pr.*}]`, "", "", ""},
		{"replace", `[{source_labels: [__meta_kubernetes_pod_label_app], target_label: app}]`, "", `{app="api", env="prod"}`, "/var/log/a.log"},
		{"replace anchors the regex", `[{source_labels: [env], regex: rod, target_label: x, replacement: y}]`, "", `{env="prod"}`, "/var/log/a.log"},
		{"labelmap", `[{action: labelmap, regex: __meta_kubernetes_pod_label_(.+)}]`, "", `{app="api", env="prod"}`, "/var/log/a.log"},
		{"hashmod", `[{action: hashmod, source_labels: [env], modulus: 10, target_label: shard}]`, "", `{env="prod", shard="` + hashmod("prod", 10) + `"}`, "/var/log/a.log"},
		{"labeldrop", `[{action: labeldrop, regex: env}]`, "", `{}`, "/var/log/a.log"},
		{"labelkeep", `[{action: labelkeep, regex: __.*|app}]`, "", `{}`, "/var/log/a.log"},
		{"path from pod uid and container", `[{source_labels: [__meta_kubernetes_pod_uid, __meta_kubernetes_pod_container_name], separator: /, target_label: __path__, replacement: '/var/log/pods/*$1/*.log'}]`, "", `{env="prod"}`, "/var/log/pods/*u1/c/*.log"},
		{"other host skipped", `[{target_label: __host__, replacement: node-2}]`, "node-1", "", ""},
		{"own host kept", `[{target_label: __host__, replacement: node-1}]`, "node-1", `{env="prod"}`, "/var/log/a.log"},
		{"no path dropped", `[{action: labeldrop, regex: __path__}]`, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{}
			m := NewManager([]Job{{Name: "j", Providers: []discovery.Provider{fixed{group}}, Relabel: relabels(t, tc.relabel)}}, tc.host, r, nil)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { m.Run(ctx); close(done) }()
			deadline := time.Now().Add(5 * time.Second)
			for len(m.Status()) == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			<-done
			r.mu.Lock()
			defer r.mu.Unlock()
			if tc.want == "" {
				if len(r.ts) != 0 {
					t.Fatalf("target kept: %+v", r.ts)
				}
				return
			}
			if len(r.ts) != 1 || r.ts[0].Labels.String() != tc.want || r.ts[0].Include != tc.wantPath {
				t.Fatalf("got %+v, want %s %s", r.ts, tc.want, tc.wantPath)
			}
		})
	}
}

// hashmod computes the expected shard with Prometheus' own code path.
func hashmod(v string, mod uint64) string {
	cfg := &relabel.Config{Action: relabel.HashMod, SourceLabels: model.LabelNames{"x"}, Modulus: mod, TargetLabel: "y",
		Separator: ";", Regex: relabel.MustNewRegexp("(.*)"), Replacement: "$1"}
	_ = cfg.Validate(model.LegacyValidation)
	lb := labels.NewBuilder(labels.FromStrings("x", v))
	relabel.ProcessBuilder(lb, cfg)
	return lb.Get("y")
}
