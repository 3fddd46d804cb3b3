package stages

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// timestamp: the entry's time from an extracted value, in one of format
// and fallback_formats (Go layouts, their names such as RFC3339, or Unix,
// UnixMs, UnixUs, UnixNs), in location when the value has no zone. On
// failure, "fudge" (default) uses the last good timestamp of the file plus
// 1ns, "skip" keeps the read time.
type timestampConfig struct {
	Source          string   `yaml:"source"`
	Format          string   `yaml:"format"`
	FallbackFormats []string `yaml:"fallback_formats"`
	Location        string   `yaml:"location"`
	ActionOnFailure string   `yaml:"action_on_failure"`
}

var namedLayouts = map[string]string{
	"ANSIC": time.ANSIC, "UnixDate": time.UnixDate, "RubyDate": time.RubyDate,
	"RFC822": time.RFC822, "RFC822Z": time.RFC822Z, "RFC850": time.RFC850,
	"RFC1123": time.RFC1123, "RFC1123Z": time.RFC1123Z, "RFC3339": time.RFC3339,
	"RFC3339Nano": time.RFC3339Nano, "Kitchen": time.Kitchen, "Stamp": time.Stamp,
	"StampMilli": time.StampMilli, "StampMicro": time.StampMicro, "StampNano": time.StampNano,
	"DateTime": time.DateTime, "DateOnly": time.DateOnly, "TimeOnly": time.TimeOnly,
}

type timeParser func(s string) (time.Time, error)

func newTimeParser(format string, loc *time.Location, now func() time.Time) timeParser {
	switch format {
	case "Unix":
		return func(s string) (time.Time, error) {
			sec, frac, _ := strings.Cut(s, ".")
			n, err := strconv.ParseInt(sec, 10, 64)
			if err != nil {
				return time.Time{}, err
			}
			var ns int64
			if frac != "" {
				frac = (frac + "000000000")[:9]
				if ns, err = strconv.ParseInt(frac, 10, 64); err != nil {
					return time.Time{}, err
				}
			}
			return time.Unix(n, ns), nil
		}
	case "UnixMs", "UnixUs", "UnixNs":
		mult := map[string]int64{"UnixMs": 1e6, "UnixUs": 1e3, "UnixNs": 1}[format]
		return func(s string) (time.Time, error) {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return time.Time{}, err
			}
			return time.Unix(0, n*mult), nil
		}
	}
	layout := format
	if l, ok := namedLayouts[format]; ok {
		layout = l
	}
	noYear := !strings.Contains(layout, "06")
	return func(s string) (time.Time, error) {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			return t, err
		}
		if noYear && t.Year() == 0 {
			t = t.AddDate(now().In(loc).Year(), 0, 0)
		}
		return t, nil
	}
}

type timestampStage struct {
	c       timestampConfig
	parsers []timeParser
}

func newTimestamp(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	c := timestampConfig{ActionOnFailure: "fudge"}
	if err := decode(n, &c, path); err != nil {
		return nil, err
	}
	if c.Source == "" || c.Format == "" {
		return nil, stageErr(n, path, "source and format are required")
	}
	if c.ActionOnFailure != "fudge" && c.ActionOnFailure != "skip" {
		return nil, stageErr(n, path+".action_on_failure", "must be fudge or skip, got %q", c.ActionOnFailure)
	}
	loc := time.UTC
	if c.Location != "" {
		l, err := time.LoadLocation(c.Location)
		if err != nil {
			return nil, stageErr(n, path+".location", "%v", err)
		}
		loc = l
	}
	s := &timestampStage{c: c}
	for _, f := range append([]string{c.Format}, c.FallbackFormats...) {
		s.parsers = append(s.parsers, newTimeParser(f, loc, p.opts.Now))
	}
	return s, nil
}

func (s *timestampStage) instance(next Emit) stageInst {
	return &timestampInst{s: s, next: next}
}

type timestampInst struct {
	s    *timestampStage
	next Emit
	last int64 // last timestamp set by this stage in this file
}

func (t *timestampInst) process(e *Entry) {
	if ts, err := t.parse(e); err == nil {
		e.Timestamp = ts
		t.last = ts
	} else if t.s.c.ActionOnFailure == "fudge" && t.last != 0 {
		t.last++
		e.Timestamp = t.last
	}
	t.next(e)
}

func (t *timestampInst) parse(e *Entry) (int64, error) {
	v, ok := extractedString(e, t.s.c.Source)
	if !ok {
		return 0, fmt.Errorf("no extracted value %q", t.s.c.Source)
	}
	var err error
	for _, p := range t.s.parsers {
		var ts time.Time
		if ts, err = p(v); err == nil {
			return ts.UnixNano(), nil
		}
	}
	return 0, err
}
