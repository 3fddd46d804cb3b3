package stages

import (
	"sort"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"gopkg.in/yaml.v3"

	"github.com/lode-logs/lode/backend/push"
)

// namePair maps a label (or metadata) name to the extracted key it takes
// its value from.
type namePair struct{ name, source string }

// decodeNameMap decodes `name: source` maps (an empty source means the
// same name), checking the names.
func decodeNameMap(n *yaml.Node, path string) ([]namePair, error) {
	var m map[string]*string
	if err := decode(n, &m, path); err != nil {
		return nil, err
	}
	var out []namePair
	for k, v := range m {
		if !model.LegacyValidation.IsValidLabelName(k) {
			return nil, stageErr(n, path, "invalid label name %q", k)
		}
		src := k
		if v != nil && *v != "" {
			src = *v
		}
		out = append(out, namePair{k, src})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// labels: set labels from extracted values (missing or empty values are
// skipped).
func newLabels(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	pairs, err := decodeNameMap(n, path)
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, stageErr(n, path, "at least one label is required")
	}
	return funcStage{f: func(e *Entry) bool {
		var b *labels.Builder
		for _, p := range pairs {
			v, ok := extractedString(e, p.source)
			if !ok || v == "" {
				continue
			}
			if b == nil {
				b = labels.NewBuilder(e.Labels)
			}
			b.Set(p.name, v)
		}
		if b != nil {
			e.Labels = b.Labels()
		}
		return true
	}}, nil
}

// structured_metadata: like labels, but into the entry's structured
// metadata. A name missing from the extracted data whose label exists
// moves from the labels to the metadata.
func newStructuredMetadata(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	pairs, err := decodeNameMap(n, path)
	if err != nil {
		return nil, err
	}
	return funcStage{f: func(e *Entry) bool {
		for _, p := range pairs {
			v, ok := extractedString(e, p.source)
			if !ok {
				if lv := e.Labels.Get(p.source); lv != "" {
					v, ok = lv, true
					e.Labels = labels.NewBuilder(e.Labels).Del(p.source).Labels()
				}
			}
			if ok && v != "" {
				e.Metadata = append(e.Metadata, push.LabelPair{Name: p.name, Value: v})
			}
		}
		return true
	}}, nil
}

// labeldrop: remove the listed labels.
func newLabelDrop(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	var names []string
	if err := decode(n, &names, path); err != nil {
		return nil, err
	}
	return funcStage{f: func(e *Entry) bool {
		b := labels.NewBuilder(e.Labels)
		b.Del(names...)
		e.Labels = b.Labels()
		return true
	}}, nil
}

// labelallow: keep only the listed labels.
func newLabelAllow(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	var names []string
	if err := decode(n, &names, path); err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, nm := range names {
		keep[nm] = true
	}
	return funcStage{f: func(e *Entry) bool {
		b := labels.NewScratchBuilder(len(names))
		e.Labels.Range(func(l labels.Label) {
			if keep[l.Name] {
				b.Add(l.Name, l.Value)
			}
		})
		e.Labels = b.Labels()
		return true
	}}, nil
}

// static_labels: set fixed labels.
func newStaticLabels(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	var m map[string]string
	if err := decode(n, &m, path); err != nil {
		return nil, err
	}
	for k := range m {
		if !model.LegacyValidation.IsValidLabelName(k) {
			return nil, stageErr(n, path, "invalid label name %q", k)
		}
	}
	return funcStage{f: func(e *Entry) bool {
		b := labels.NewBuilder(e.Labels)
		for k, v := range m {
			b.Set(k, v)
		}
		e.Labels = b.Labels()
		return true
	}}, nil
}

// output: the line becomes the extracted value source.
func newOutput(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	var c struct {
		Source string `yaml:"source"`
	}
	if err := decode(n, &c, path); err != nil {
		return nil, err
	}
	if c.Source == "" {
		return nil, stageErr(n, path, "source is required")
	}
	return funcStage{f: func(e *Entry) bool {
		if v, ok := extractedString(e, c.Source); ok {
			e.Line = []byte(v)
		}
		return true
	}}, nil
}

// tenant: the entry's tenant from a label, an extracted value or a fixed
// value (exactly one of them).
func newTenant(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	var c struct {
		Label  string `yaml:"label"`
		Source string `yaml:"source"`
		Value  string `yaml:"value"`
	}
	if err := decode(n, &c, path); err != nil {
		return nil, err
	}
	set := 0
	for _, s := range []string{c.Label, c.Source, c.Value} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		return nil, stageErr(n, path, "exactly one of label, source and value is required")
	}
	return funcStage{f: func(e *Entry) bool {
		switch {
		case c.Value != "":
			e.Tenant = c.Value
		case c.Label != "":
			if v := e.Labels.Get(c.Label); v != "" {
				e.Tenant = v
			}
		default:
			if v, ok := extractedString(e, c.Source); ok && v != "" {
				e.Tenant = v
			}
		}
		return true
	}}, nil
}

// decolorize: remove ANSI escape sequences (colours, cursor moves) from
// the line.
func newDecolorize(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	if err := decode(n, &struct{}{}, path); err != nil {
		return nil, err
	}
	return funcStage{f: func(e *Entry) bool {
		if i := indexByte(e.Line, 0x1b); i >= 0 {
			e.Line = stripANSI(e.Line)
		}
		return true
	}}, nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// stripANSI returns a copy of b without CSI (ESC [ ... final byte) and
// two-byte ESC sequences.
func stripANSI(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != 0x1b {
			out = append(out, b[i])
			continue
		}
		if i+1 < len(b) && b[i+1] == '[' {
			j := i + 2
			for j < len(b) && (b[j] < 0x40 || b[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		i++ // ESC and the byte after it
	}
	return out
}
