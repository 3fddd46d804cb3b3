package targets

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/lode-logs/lode/backend/agent/discovery"
	"github.com/lode-logs/lode/backend/agent/stages"
	"github.com/lode-logs/lode/backend/agent/tailer"
)

// Labels with a meaning for file targets.
const (
	PathLabel        = "__path__"
	PathExcludeLabel = "__path_exclude__"
	HostLabel        = "__host__" // targets of another host are skipped
)

// Job is one scrape config ready to run.
type Job struct {
	Name      string
	Providers []discovery.Provider
	Relabel   []*relabel.Config
	Pipeline  *stages.Pipeline
}

// Applier receives the complete set of file targets.
type Applier interface {
	SetTargets([]tailer.Target)
}

// Manager runs the jobs' discovery, relabels what they find and hands
// the resulting file targets to the tailer.
type Manager struct {
	jobs     []Job
	hostname string
	out      Applier
	logger   *slog.Logger

	mu      sync.Mutex                        // guards groups and status
	groups  map[int]map[int][]discovery.Group // job -> provider -> groups
	status  []Status
	changed chan struct{}
}

// Status is one discovered target and what relabelling made of it.
type Status struct {
	Job        string
	Discovered string // labels before relabelling
	Labels     string // labels after relabelling, "" when dropped
	Path       string
	Dropped    string // why it is not followed, if it is not
}

// NewManager prepares a manager; hostname is compared with __host__.
func NewManager(jobs []Job, hostname string, out Applier, logger *slog.Logger) *Manager {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{jobs: jobs, hostname: hostname, out: out, logger: logger,
		groups: map[int]map[int][]discovery.Group{}, changed: make(chan struct{}, 1)}
}

// Run starts every provider and applies targets until ctx is done.
func (m *Manager) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for ji, j := range m.jobs {
		for pi, p := range j.Providers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.Run(ctx, func(gs []discovery.Group) { m.update(ji, pi, gs) })
			}()
		}
	}
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.changed:
			m.apply()
			select { // at most a few applies per second
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

func (m *Manager) update(job, provider int, gs []discovery.Group) {
	m.mu.Lock()
	if m.groups[job] == nil {
		m.groups[job] = map[int][]discovery.Group{}
	}
	m.groups[job][provider] = gs
	m.mu.Unlock()
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// apply relabels every discovered target and hands the file targets on.
func (m *Manager) apply() {
	m.mu.Lock()
	var out []tailer.Target
	var status []Status
	seen := map[string]bool{}
	for ji, j := range m.jobs {
		for pi := 0; pi < len(j.Providers); pi++ {
			for _, g := range m.groups[ji][pi] {
				for _, t := range g.Targets {
					tt, st := m.target(j, g, t)
					status = append(status, st)
					if st.Dropped == "" && !seen[tt.Key] {
						seen[tt.Key] = true
						out = append(out, tt)
					}
				}
			}
		}
	}
	m.status = status
	m.mu.Unlock()
	sort.Slice(out, func(a, b int) bool { return out[a].Key < out[b].Key })
	m.out.SetTargets(out)
}

// Target relabels one discovered target of job j.
func (m *Manager) target(j Job, g discovery.Group, t model.LabelSet) (tailer.Target, Status) {
	b := labels.NewScratchBuilder(len(g.Labels) + len(t))
	for k, v := range g.Labels {
		if _, over := t[k]; !over {
			b.Add(string(k), string(v))
		}
	}
	for k, v := range t {
		b.Add(string(k), string(v))
	}
	b.Sort()
	lbls := b.Labels()
	st := Status{Job: j.Name, Discovered: lbls.String()}
	lb := labels.NewBuilder(lbls)
	keep := relabel.ProcessBuilder(lb, j.Relabel...)
	final := lb.Labels()
	if !keep {
		st.Dropped = "dropped by relabelling"
		return tailer.Target{}, st
	}
	if h := final.Get(HostLabel); h != "" && h != m.hostname {
		st.Dropped = "__host__ " + h + " is another host"
		return tailer.Target{}, st
	}
	path := final.Get(PathLabel)
	if path == "" {
		st.Dropped = "no __path__ label"
		return tailer.Target{}, st
	}
	kept := labels.NewBuilder(final)
	final.Range(func(l labels.Label) {
		if strings.HasPrefix(l.Name, model.ReservedLabelPrefix) {
			kept.Del(l.Name)
		}
	})
	visible := kept.Labels()
	st.Labels, st.Path = visible.String(), path
	tt := tailer.Target{
		Key:      j.Name + "|" + path + "|" + final.Get(PathExcludeLabel) + "|" + visible.String(),
		Job:      j.Name,
		Include:  path,
		Exclude:  final.Get(PathExcludeLabel),
		Labels:   visible,
		Pipeline: j.Pipeline,
	}
	return tt, st
}

// Status returns the discovered targets and their fate, for /targets.
func (m *Manager) Status() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Status(nil), m.status...)
}

// Ready reports whether every provider reported at least once.
func (m *Manager) Ready() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for ji, j := range m.jobs {
		if len(m.groups[ji]) < len(j.Providers) {
			return fmt.Errorf("job %q: discovery has not reported yet (%d of %d providers)", j.Name, len(m.groups[ji]), len(j.Providers))
		}
	}
	return nil
}
