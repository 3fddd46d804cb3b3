package stages

import (
	"time"

	"github.com/grafana/regexp"
	"gopkg.in/yaml.v3"
)

// multiline: lines are joined (with "\n") into a block that starts at a
// line matching firstline; a block is sent on when the next one starts,
// when it has max_lines lines, or max_wait_time after its last line.
type multilineConfig struct {
	FirstLine   string        `yaml:"firstline"`
	MaxWaitTime time.Duration `yaml:"max_wait_time"`
	MaxLines    int           `yaml:"max_lines"`
}

type multilineStage struct {
	c   multilineConfig
	re  *regexp.Regexp
	now func() time.Time
}

func newMultiline(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	c := multilineConfig{MaxWaitTime: 3 * time.Second, MaxLines: 128}
	if err := decode(n, &c, path); err != nil {
		return nil, err
	}
	if c.FirstLine == "" {
		return nil, stageErr(n, path, "firstline is required")
	}
	re, err := regexp.Compile(c.FirstLine)
	if err != nil {
		return nil, stageErr(n, path+".firstline", "%v", err)
	}
	if c.MaxLines <= 0 || c.MaxWaitTime <= 0 {
		return nil, stageErr(n, path, "max_lines and max_wait_time must be positive")
	}
	return &multilineStage{c: c, re: re, now: p.opts.Now}, nil
}

func (s *multilineStage) instance(next Emit) stageInst {
	return &multilineInst{s: s, next: next}
}

type multilineInst struct {
	s     *multilineStage
	next  Emit
	held  bool
	lines int
	last  time.Time
	entry Entry  // first line of the block (its token covers the block)
	buf   []byte // the joined block
}

func (m *multilineInst) process(e *Entry) {
	first := m.s.re.Match(e.Line)
	if m.held && (first || m.lines >= m.s.c.MaxLines) {
		m.emit()
	}
	if !m.held {
		m.held, m.lines = true, 1
		m.entry = *e
		m.entry.Line = nil
		m.buf = append(m.buf[:0], e.Line...)
		m.last = m.s.now()
		return
	}
	m.buf = append(m.buf, '\n')
	m.buf = append(m.buf, e.Line...)
	m.lines++
	m.last = m.s.now()
	e.Ack.Done()
}

func (m *multilineInst) emit() {
	e := m.entry
	e.Line = m.buf
	m.held, m.lines, m.entry = false, 0, Entry{}
	m.next(&e)
	m.buf = m.buf[:0]
}

func (m *multilineInst) flush(now time.Time, force bool) {
	if m.held && (force || now.Sub(m.last) >= m.s.c.MaxWaitTime) {
		m.emit()
	}
}

func (m *multilineInst) pending() bool { return m.held }
