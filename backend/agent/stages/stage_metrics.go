package stages

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"gopkg.in/yaml.v3"
)

// metrics: counters, gauges and histograms computed from extracted data
// and exposed on the agent's /metrics, labelled with the entry's labels.
// Series not updated for max_idle_duration (default 5m) are forgotten.
type metricConfig struct {
	Type            string        `yaml:"type"`
	Description     string        `yaml:"description"`
	Source          string        `yaml:"source"`
	Prefix          *string       `yaml:"prefix"`
	MaxIdleDuration time.Duration `yaml:"max_idle_duration"`
	Config          struct {
		Value           *string   `yaml:"value"`
		Action          string    `yaml:"action"`
		MatchAll        bool      `yaml:"match_all"`
		CountEntryBytes bool      `yaml:"count_entry_bytes"`
		Buckets         []float64 `yaml:"buckets"`
	} `yaml:"config"`
}

// defaultMetricPrefix is Promtail's, so that existing dashboards and
// alerts keep working.
const defaultMetricPrefix = "promtail_custom_"

func newMetrics(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	var m map[string]metricConfig
	if err := decode(n, &m, path); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	var ms []*metricDef
	for _, name := range names {
		d, err := newMetricDef(name, m[name], p.opts.Now)
		if err != nil {
			return nil, stageErr(n, path+"."+name, "%v", err)
		}
		if p.opts.Registerer != nil {
			if err := p.opts.Registerer.Register(d); err != nil {
				return nil, stageErr(n, path+"."+name, "register metric %s: %v", d.name, err)
			}
		}
		ms = append(ms, d)
	}
	return funcStage{f: func(e *Entry) bool {
		for _, d := range ms {
			d.observe(e)
		}
		return true
	}}, nil
}

type metricDef struct {
	name, help string
	kind       string // counter, gauge, histogram
	c          metricConfig
	source     string
	buckets    []float64
	now        func() time.Time
	idle       time.Duration

	mu     sync.Mutex // guards series
	series map[uint64]*metricSeries
}

type metricSeries struct {
	lbls    labels.Labels
	value   float64
	count   uint64
	buckets []uint64
	last    time.Time
}

func newMetricDef(name string, c metricConfig, now func() time.Time) (*metricDef, error) {
	prefix := defaultMetricPrefix
	if c.Prefix != nil {
		prefix = *c.Prefix
	}
	d := &metricDef{name: prefix + name, help: c.Description, c: c, source: c.Source, now: now,
		idle: c.MaxIdleDuration, series: map[uint64]*metricSeries{}}
	if d.source == "" {
		d.source = name
	}
	if d.help == "" {
		d.help = "Metric " + name + " of the agent's metrics pipeline stage."
	}
	if d.idle == 0 {
		d.idle = 5 * time.Minute
	}
	if !model.LegacyValidation.IsValidMetricName(d.name) {
		return nil, fmt.Errorf("invalid metric name %q", d.name)
	}
	act := strings.ToLower(c.Config.Action)
	switch d.kind = strings.ToLower(c.Type); d.kind {
	case "counter":
		if act != "inc" && act != "add" {
			return nil, fmt.Errorf("counter action must be inc or add, got %q", c.Config.Action)
		}
	case "gauge":
		if act != "set" && act != "inc" && act != "dec" && act != "add" && act != "sub" {
			return nil, fmt.Errorf("gauge action must be set, inc, dec, add or sub, got %q", c.Config.Action)
		}
	case "histogram":
		if len(c.Config.Buckets) == 0 {
			d.buckets = prometheus.DefBuckets
		} else {
			d.buckets = append([]float64(nil), c.Config.Buckets...)
			sort.Float64s(d.buckets)
		}
	default:
		return nil, fmt.Errorf("type must be Counter, Gauge or Histogram, got %q", c.Type)
	}
	if c.Config.MatchAll && d.kind != "counter" {
		return nil, fmt.Errorf("match_all is only for counters")
	}
	d.c.Config.Action = act
	return d, nil
}

// observe updates the series of e's labels.
func (d *metricDef) observe(e *Entry) {
	var val string
	var ok bool
	if d.c.Config.MatchAll {
		ok = true
	} else if val, ok = extractedString(e, d.source); !ok {
		return
	}
	if d.c.Config.Value != nil && val != *d.c.Config.Value {
		return
	}
	var num float64
	switch {
	case d.c.Config.CountEntryBytes:
		num = float64(len(e.Line))
	case d.kind == "histogram" || d.c.Config.Action == "add" || d.c.Config.Action == "sub" || d.c.Config.Action == "set":
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || (d.kind == "counter" && f < 0) {
			return
		}
		num = f
	default:
		num = 1
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.seriesFor(e.Labels)
	s.last = d.now()
	switch {
	case d.kind == "histogram":
		s.count++
		s.value += num
		for i, b := range d.buckets {
			if num <= b {
				s.buckets[i]++
			}
		}
	case d.c.Config.Action == "set":
		s.value = num
	case d.c.Config.Action == "dec":
		s.value--
	case d.c.Config.Action == "sub":
		s.value -= num
	case d.c.Config.CountEntryBytes || d.c.Config.Action == "add":
		s.value += num
	default:
		s.value++
	}
}

func (d *metricDef) seriesFor(ls labels.Labels) *metricSeries {
	h := ls.Hash()
	s, ok := d.series[h]
	if !ok || !labels.Equal(s.lbls, ls) {
		s = &metricSeries{lbls: ls}
		if d.kind == "histogram" {
			s.buckets = make([]uint64, len(d.buckets))
		}
		d.series[h] = s
	}
	return s
}

// Describe implements prometheus.Collector (an unchecked collector: the
// label names vary with the entries).
func (d *metricDef) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (d *metricDef) Collect(ch chan<- prometheus.Metric) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	for h, s := range d.series {
		if now.Sub(s.last) > d.idle {
			delete(d.series, h)
			continue
		}
		var names, values []string
		s.lbls.Range(func(l labels.Label) {
			names = append(names, l.Name)
			values = append(values, l.Value)
		})
		desc := prometheus.NewDesc(d.name, d.help, names, nil)
		var m prometheus.Metric
		var err error
		switch d.kind {
		case "counter":
			m, err = prometheus.NewConstMetric(desc, prometheus.CounterValue, s.value, values...)
		case "gauge":
			m, err = prometheus.NewConstMetric(desc, prometheus.GaugeValue, s.value, values...)
		default:
			bk := make(map[float64]uint64, len(d.buckets))
			for i, b := range d.buckets {
				bk[b] = s.buckets[i]
			}
			m, err = prometheus.NewConstHistogram(desc, s.count, s.value, bk, values...)
		}
		if err == nil {
			ch <- m
		}
	}
}
