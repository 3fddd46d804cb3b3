package engine

import (
	"bytes"
	"fmt"
)

// pattern is a compiled pattern expression: literals and captures (<name>,
// or <_> which skips). A capture extends lazily to the next literal, or to
// the end of the line when it is last.
type pattern struct {
	parts []patternPart
	names []string // names of the named captures, in order
}

type patternPart struct {
	lit  []byte // literal, when capture is false
	name string // "_" for an unnamed capture
	capt bool
}

func parsePattern(s string) (*pattern, error) {
	p := &pattern{}
	var lit []byte
	for i := 0; i < len(s); {
		if s[i] == '<' {
			if n := captureEnd(s[i+1:]); n > 0 {
				if len(lit) > 0 {
					p.parts = append(p.parts, patternPart{lit: lit})
					lit = nil
				}
				name := s[i+1 : i+1+n]
				if len(p.parts) > 0 && p.parts[len(p.parts)-1].capt {
					return nil, fmt.Errorf("pattern %q: %w: consecutive captures", s, ErrInvalidPattern)
				}
				p.parts = append(p.parts, patternPart{name: name, capt: true})
				if name != "_" {
					p.names = append(p.names, name)
				}
				i += n + 2
				continue
			}
		}
		lit = append(lit, s[i])
		i++
	}
	if len(lit) > 0 {
		p.parts = append(p.parts, patternPart{lit: lit})
	}
	return p, nil
}

// captureEnd returns the length of an identifier followed by '>' at the start
// of s, or 0.
func captureEnd(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '>':
			return i
		case c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9'):
		default:
			return 0
		}
	}
	return 0
}

// match appends to dst the values of the named captures that matched, in
// order, stopping at the first literal not found (so a partial match yields
// the captures before it). ok reports a full match.
func (p *pattern) match(dst [][]byte, line []byte) ([][]byte, bool) {
	parts := p.parts
	if len(parts) == 0 || len(line) == 0 {
		return dst, false
	}
	if !parts[0].capt {
		if !bytes.HasPrefix(line, parts[0].lit) {
			return dst, false
		}
		line = line[len(parts[0].lit):]
		parts = parts[1:]
	}
	for len(parts) > 0 {
		c := parts[0]
		if len(parts) == 1 {
			if c.name != "_" {
				dst = append(dst, line)
			}
			return dst, true
		}
		lit := parts[1].lit
		parts = parts[2:]
		i := bytes.Index(line, lit)
		if i < 0 {
			return dst, false
		}
		if c.name != "_" {
			dst = append(dst, line[:i])
		}
		line = line[i+len(lit):]
	}
	return dst, true
}

// test reports whether line matches the pattern, as a line filter.
func (p *pattern) test(line []byte) bool {
	parts := p.parts
	if len(parts) == 0 {
		return true
	}
	if !parts[0].capt {
		if !bytes.HasPrefix(line, parts[0].lit) {
			return false
		}
		line = line[len(parts[0].lit):]
		parts = parts[1:]
	}
	for _, pp := range parts {
		if pp.capt {
			continue
		}
		i := bytes.Index(line, pp.lit)
		if i < 0 {
			return false
		}
		line = line[i+len(pp.lit):]
	}
	return true
}
