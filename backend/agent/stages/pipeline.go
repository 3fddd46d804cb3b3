package stages

import (
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"gopkg.in/yaml.v3"

	"github.com/lode-logs/lode/backend/agent/ack"
	"github.com/lode-logs/lode/backend/push"
)

// Entry is one log line on its way through a pipeline.
type Entry struct {
	Timestamp int64  // Unix ns; the read time unless a stage sets it
	Line      []byte // valid only during the call that hands the entry over
	Labels    labels.Labels
	Metadata  []push.LabelPair
	Tenant    string         // "" means the client's tenant
	Extracted map[string]any // data extracted by parsing stages; may be nil
	Ack       ack.Token      // released when the entry is sent or dropped
}

// Emit receives entries leaving a stage. The entry and its Line are only
// valid during the call: a receiver that keeps them copies them.
type Emit func(e *Entry)

// Options are the shared dependencies of the pipelines of one job.
type Options struct {
	JobName    string
	Registerer prometheus.Registerer  // for the metrics stage; may be nil
	Dropped    *prometheus.CounterVec // lines dropped by stages, by reason; may be nil
	Logger     *slog.Logger
	Now        func() time.Time // default time.Now
}

// Pipeline is the compiled pipeline_stages of one job. It is immutable
// and shared by the Instances of every file of the job.
type Pipeline struct {
	defs []stageDef
	opts *Options
}

// stageDef is a compiled stage; instance creates the per-file state that
// passes entries on to next.
type stageDef interface {
	instance(next Emit) stageInst
}

// stageInst processes entries of one file, calling next for each entry
// it lets through (zero, one or more times).
type stageInst interface {
	process(e *Entry)
}

// flusher is a stageInst that holds entries back (multiline, cri partial
// lines): flush emits those waiting since before deadline, or all of them
// when force is set.
type flusher interface {
	flush(now time.Time, force bool)
	pending() bool
}

// New compiles the pipeline_stages nodes of a job; errors name the line
// and key at fault. path prefixes key names in errors.
func New(nodes []yaml.Node, path string, o Options) (*Pipeline, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Pipeline{opts: &o}
	defs, err := p.compileList(nodes, path)
	if err != nil {
		return nil, err
	}
	p.defs = defs
	return p, nil
}

// Len returns the number of top-level stages.
func (p *Pipeline) Len() int { return len(p.defs) }

// Instance is the per-file state of a pipeline. It is used by one
// goroutine at a time.
type Instance struct {
	first    stageInst
	flushers []flusher
	sink     Emit
	dropped  *prometheus.CounterVec
}

// Instance creates the per-file state of p.
func (p *Pipeline) Instance() *Instance {
	in := &Instance{dropped: p.opts.Dropped}
	var next Emit = func(e *Entry) { in.sink(e) }
	insts := buildChain(p.defs, next)
	if len(insts) > 0 {
		in.first = insts[0]
	}
	in.flushers = collectFlushers(insts)
	return in
}

func buildChain(defs []stageDef, next Emit) []stageInst {
	insts := make([]stageInst, len(defs))
	for i := len(defs) - 1; i >= 0; i-- {
		insts[i] = defs[i].instance(next)
		si := insts[i]
		next = si.process
	}
	return insts
}

func collectFlushers(insts []stageInst) []flusher {
	var out []flusher
	for _, si := range insts {
		if f, ok := si.(flusher); ok {
			out = append(out, f)
		}
	}
	return out
}

// Process runs e through the pipeline, handing what comes out to sink.
func (in *Instance) Process(e *Entry, sink Emit) {
	in.sink = sink
	if in.first == nil {
		sink(e)
		return
	}
	in.first.process(e)
}

// Flush emits entries held back since before their wait time (all of
// them when force is set, for example when the file is released).
func (in *Instance) Flush(now time.Time, force bool, sink Emit) {
	in.sink = sink
	for _, f := range in.flushers {
		f.flush(now, force)
	}
}

// Pending reports whether stages hold entries back.
func (in *Instance) Pending() bool {
	for _, f := range in.flushers {
		if f.pending() {
			return true
		}
	}
	return false
}

// drop releases e and counts it under reason.
func drop(e *Entry, c *prometheus.CounterVec, reason string) {
	e.Ack.Done()
	e.Ack = ack.Token{}
	if c != nil {
		c.WithLabelValues(reason).Inc()
	}
}

// compileList compiles a list of stages (top level or inside match).
func (p *Pipeline) compileList(nodes []yaml.Node, path string) ([]stageDef, error) {
	var defs []stageDef
	for i := range nodes {
		n := &nodes[i]
		sp := fmt.Sprintf("%s[%d]", path, i)
		if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
			return nil, stageErr(n, sp, "a stage is a map with exactly one key, the stage name (for example `- regex: {expression: ...}`)")
		}
		name, body := n.Content[0].Value, n.Content[1]
		def, err := p.compile(name, body, sp+"."+name)
		if err != nil {
			return nil, err
		}
		defs = append(defs, def)
	}
	return defs, nil
}

func (p *Pipeline) compile(name string, body *yaml.Node, path string) (stageDef, error) {
	build, ok := builders[name]
	if !ok {
		return nil, stageErr(body, path, "unknown stage %q", name)
	}
	return build(p, body, path)
}

// builders maps stage names to their compilers.
var builders map[string]func(p *Pipeline, n *yaml.Node, path string) (stageDef, error)

func init() {
	builders = map[string]func(p *Pipeline, n *yaml.Node, path string) (stageDef, error){
		"docker": newDocker, "cri": newCRI, "regex": newRegex, "json": newJSON,
		"logfmt": newLogfmt, "replace": newReplace, "template": newTemplateStage,
		"labels": newLabels, "labeldrop": newLabelDrop, "labelallow": newLabelAllow,
		"static_labels": newStaticLabels, "timestamp": newTimestamp, "output": newOutput,
		"match": newMatch, "drop": newDrop, "limit": newLimit, "multiline": newMultiline,
		"structured_metadata": newStructuredMetadata, "non_indexed_labels": newStructuredMetadata,
		"tenant": newTenant, "decolorize": newDecolorize, "metrics": newMetrics,
	}
}

// funcStage is a stateless stage: f returns false to drop the entry
// (f released it already).
type funcStage struct {
	f func(e *Entry) bool
}

func (s funcStage) instance(next Emit) stageInst { return &funcInst{f: s.f, next: next} }

type funcInst struct {
	f    func(e *Entry) bool
	next Emit
}

func (s *funcInst) process(e *Entry) {
	if s.f(e) {
		s.next(e)
	}
}

// setExtracted stores v under k, allocating the map.
func setExtracted(e *Entry, k string, v any) {
	if e.Extracted == nil {
		e.Extracted = make(map[string]any, 4)
	}
	e.Extracted[k] = v
}

// extractedString returns the extracted value k as a string.
func extractedString(e *Entry, k string) (string, bool) {
	v, ok := e.Extracted[k]
	if !ok {
		return "", false
	}
	return toString(v)
}

func toString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case nil:
		return "", false
	case fmt.Stringer:
		return x.String(), true
	}
	return fmt.Sprint(v), true
}
