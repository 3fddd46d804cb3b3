package stages

import (
	"bytes"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lode-logs/lode/backend/agent/ack"
)

// cri parses "<time> <stream> <flags> <content>" lines of the CRI log
// format (containerd, CRI-O): extracts time, stream, flags and content,
// sets the stream label, the timestamp and the line. Partial lines (flag
// P) are held and joined with what follows until a full line (flag F);
// at most MaxPartialLines are joined, and a held partial line is sent on
// after criMaxWait without continuation.
type criConfig struct {
	MaxPartialLines            int  `yaml:"max_partial_lines"`
	MaxPartialLineSize         int  `yaml:"max_partial_line_size"`
	MaxPartialLineSizeTruncate bool `yaml:"max_partial_line_size_truncate"`
}

// criMaxWait is how long a partial line waits for its continuation.
const criMaxWait = 3 * time.Second

type criStage struct {
	c   criConfig
	now func() time.Time
}

func newCRI(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	c := criConfig{MaxPartialLines: 100}
	if err := decode(n, &c, path); err != nil {
		return nil, err
	}
	if c.MaxPartialLines <= 0 {
		return nil, stageErr(n, path+".max_partial_lines", "must be positive")
	}
	return &criStage{c: c, now: p.opts.Now}, nil
}

func (s *criStage) instance(next Emit) stageInst { return &criInst{s: s, next: next} }

type criInst struct {
	s       *criStage
	next    Emit
	held    bool
	parts   int
	since   time.Time
	entry   Entry // the first partial line, with the joined content
	content []byte
}

// parseCRI splits a CRI line; ok is false when it is not one.
func parseCRI(line []byte) (ts, stream, flags, content []byte, ok bool) {
	f := bytes.SplitN(line, []byte{' '}, 4)
	if len(f) < 3 {
		return nil, nil, nil, nil, false
	}
	if s := string(f[1]); s != "stdout" && s != "stderr" {
		return nil, nil, nil, nil, false
	}
	if len(f) == 4 {
		content = f[3]
	}
	return f[0], f[1], f[2], content, true
}

func (c *criInst) process(e *Entry) {
	ts, stream, flags, content, ok := parseCRI(e.Line)
	if !ok {
		c.next(e)
		return
	}
	if t, err := time.Parse(time.RFC3339Nano, string(ts)); err == nil {
		e.Timestamp = t.UnixNano()
	}
	partial := len(flags) > 0 && flags[0] == 'P'
	if c.s.c.MaxPartialLineSizeTruncate && c.s.c.MaxPartialLineSize > 0 && len(content) > c.s.c.MaxPartialLineSize {
		content = content[:c.s.c.MaxPartialLineSize]
	}
	if c.held {
		c.content = append(c.content, content...)
		c.parts++
		e.Ack.Done() // the first part's token covers the joined line
		if !partial || c.parts >= c.s.c.MaxPartialLines {
			c.emitHeld()
		}
		return
	}
	if partial {
		c.held, c.parts, c.since = true, 1, c.s.now()
		c.entry = *e
		c.entry.Line = nil
		c.content = append(c.content[:0], content...)
		c.entry.Extracted = map[string]any{"time": string(ts), "stream": string(stream), "flags": string(flags)}
		c.entry.Labels = setLabel(e.Labels, "stream", string(stream))
		return
	}
	setExtracted(e, "time", string(ts))
	setExtracted(e, "stream", string(stream))
	setExtracted(e, "flags", string(flags))
	setExtracted(e, "content", string(content))
	e.Labels = setLabel(e.Labels, "stream", string(stream))
	e.Line = content
	c.next(e)
}

func (c *criInst) emitHeld() {
	e := c.entry
	e.Line = c.content
	e.Extracted["content"] = string(c.content)
	c.held, c.parts = false, 0
	c.entry = Entry{Ack: ack.Token{}}
	c.next(&e)
}

func (c *criInst) flush(now time.Time, force bool) {
	if c.held && (force || now.Sub(c.since) >= criMaxWait) {
		c.emitHeld()
	}
}

func (c *criInst) pending() bool { return c.held }
