package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/lode-logs/lode/backend/agent/config"
)

// Group is a target group: targets that share labels, from one source.
type Group struct {
	Source  string
	Targets []model.LabelSet // each with at least __address__
	Labels  model.LabelSet
}

// Updater receives the complete current groups of one provider.
type Updater func(groups []Group)

// Provider discovers target groups until ctx is done, calling up with the
// full set each time it changes.
type Provider interface {
	Run(ctx context.Context, up Updater)
}

// Static returns the groups of static_configs (a target list defaults to
// localhost, as in Promtail).
func Static(cfgs []config.StaticConfig) Provider { return staticProvider(cfgs) }

type staticProvider []config.StaticConfig

func (s staticProvider) Run(ctx context.Context, up Updater) {
	var groups []Group
	for i, c := range s {
		groups = append(groups, toGroup(fmt.Sprintf("static/%d", i), c))
	}
	up(groups)
}

func toGroup(source string, c config.StaticConfig) Group {
	g := Group{Source: source, Labels: model.LabelSet{}}
	for k, v := range c.Labels {
		g.Labels[model.LabelName(k)] = model.LabelValue(v)
	}
	targets := c.Targets
	if len(targets) == 0 {
		targets = []string{"localhost"}
	}
	for _, t := range targets {
		g.Targets = append(g.Targets, model.LabelSet{model.AddressLabel: model.LabelValue(t)})
	}
	return g
}

// FileSD reads target groups from files matching the configured patterns
// (YAML or JSON lists of {targets, labels}), again whenever they change
// and every refresh interval. Each target gets __meta_filepath. A file
// that does not parse keeps its previous groups.
func FileSD(c config.FileSDConfig, logger *slog.Logger) Provider {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = 5 * time.Minute
	}
	return &fileSD{c: c, logger: logger, last: map[string][]Group{}}
}

type fileSD struct {
	c      config.FileSDConfig
	logger *slog.Logger
	last   map[string][]Group // by file, the last good read
}

func (f *fileSD) Run(ctx context.Context, up Updater) {
	w, err := fsnotify.NewWatcher()
	if err == nil {
		defer w.Close()
		for _, p := range f.c.Files {
			_ = w.Add(filepath.Dir(p))
		}
	}
	var events <-chan fsnotify.Event
	if w != nil {
		events = w.Events
	}
	tick := time.NewTicker(f.c.RefreshInterval)
	defer tick.Stop()
	up(f.read())
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			up(f.read())
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			time.Sleep(50 * time.Millisecond) // let the writer finish
			drainEvents(events)
			up(f.read())
		}
	}
}

func drainEvents(ch <-chan fsnotify.Event) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// read returns the groups of every file matching the patterns.
func (f *fileSD) read() []Group {
	seen := map[string]bool{}
	for _, pat := range f.c.Files {
		matches, _ := filepath.Glob(pat)
		for _, m := range matches {
			seen[m] = true
			groups, err := readFileSD(m)
			if err != nil {
				f.logger.Error("file_sd: keeping the previous targets of a file that does not parse", "file", m, "err", err)
				continue
			}
			f.last[m] = groups
		}
	}
	var out []Group
	files := make([]string, 0, len(f.last))
	for m := range f.last {
		if !seen[m] {
			delete(f.last, m)
			continue
		}
		files = append(files, m)
	}
	sort.Strings(files)
	for _, m := range files {
		out = append(out, f.last[m]...)
	}
	return out
}

func readFileSD(path string) ([]Group, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfgs []config.StaticConfig
	if strings.HasSuffix(path, ".json") {
		err = json.Unmarshal(data, &cfgs)
	} else {
		err = yaml.Unmarshal(data, &cfgs)
	}
	if err != nil {
		return nil, err
	}
	var out []Group
	for i, c := range cfgs {
		for k := range c.Labels {
			if !model.LegacyValidation.IsValidLabelName(k) {
				return nil, fmt.Errorf("group %d: invalid label name %q", i, k)
			}
		}
		g := toGroup(fmt.Sprintf("%s:%d", path, i), c)
		g.Labels["__meta_filepath"] = model.LabelValue(path)
		out = append(out, g)
	}
	return out, nil
}
