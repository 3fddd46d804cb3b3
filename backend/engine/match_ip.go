package engine

import (
	"fmt"
	"net/netip"
	"strings"
)

// ipMatcher tells whether an address is the one, inside the CIDR, or inside
// the range a-b given to ip("...").
type ipMatcher struct {
	prefix   netip.Prefix
	from, to netip.Addr
	isPrefix bool
}

func newIPMatcher(pattern string) (ipMatcher, error) {
	s := strings.TrimSpace(pattern)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return ipMatcher{}, fmt.Errorf("ip(%q): %w", pattern, ErrInvalidIP)
		}
		return ipMatcher{prefix: p.Masked(), isPrefix: true}, nil
	}
	if a, b, ok := strings.Cut(s, "-"); ok {
		from, err1 := netip.ParseAddr(strings.TrimSpace(a))
		to, err2 := netip.ParseAddr(strings.TrimSpace(b))
		if err1 != nil || err2 != nil || from.Is4() != to.Is4() || to.Less(from) {
			return ipMatcher{}, fmt.Errorf("ip(%q): %w", pattern, ErrInvalidIP)
		}
		return ipMatcher{from: from, to: to}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ipMatcher{}, fmt.Errorf("ip(%q): %w", pattern, ErrInvalidIP)
	}
	return ipMatcher{from: a, to: a}, nil
}

func (m ipMatcher) contains(a netip.Addr) bool {
	a = a.Unmap()
	if m.isPrefix {
		return m.prefix.Contains(a)
	}
	return a.Is4() == m.from.Is4() && !a.Less(m.from) && !m.to.Less(a)
}

// matchString reports whether s (a label value) is an address in range.
func (m ipMatcher) matchString(s string) bool {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	return err == nil && m.contains(a)
}

// ipLineFilter keeps lines containing an address in range anywhere.
type ipLineFilter struct{ m ipMatcher }

func isIPChar(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':'
}

func (f ipLineFilter) match(line []byte) bool {
	for i := 0; i < len(line); {
		if !isIPChar(line[i]) {
			i++
			continue
		}
		j := i
		for j < len(line) && isIPChar(line[j]) {
			j++
		}
		if f.matchToken(line[i:j]) {
			return true
		}
		i = j
	}
	return false
}

// matchToken tries the token and, for tokens with surrounding punctuation
// (a trailing "." or ":"), its trimmed forms. IPv4 addresses (with an
// optional :port) are parsed by hand, and only tokens shaped like IPv6
// addresses reach netip, so that the filter does not allocate on the
// timestamps and versions that fill log lines.
func (f ipLineFilter) matchToken(tok []byte) bool {
	for len(tok) > 0 && (tok[len(tok)-1] == '.' || tok[len(tok)-1] == ':') {
		tok = tok[:len(tok)-1]
	}
	for len(tok) > 0 && tok[0] == '.' {
		tok = tok[1:]
	}
	if len(tok) < 2 {
		return false
	}
	colons := 0
	for _, c := range tok {
		if c == ':' {
			colons++
		}
	}
	if colons <= 1 {
		if colons == 1 {
			tok = tok[:indexByte(tok, ':')]
		}
		a, ok := parseIPv4(tok)
		return ok && f.m.contains(a)
	}
	if colons != 7 && !containsDoubleColon(tok) {
		return false
	}
	a, err := netip.ParseAddr(bytesString(tok))
	return err == nil && f.m.contains(a)
}

// parseIPv4 parses a dotted quad without allocating.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	part, n, digits := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || part > 3 {
				return netip.Addr{}, false
			}
			ip[part] = byte(n)
			part, n, digits = part+1, 0, 0
			continue
		}
		c := b[i]
		if c < '0' || c > '9' || (digits > 0 && n == 0) {
			return netip.Addr{}, false // not a digit, or a leading zero
		}
		n = n*10 + int(c-'0')
		digits++
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if part != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

func containsDoubleColon(b []byte) bool {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == ':' && b[i+1] == ':' {
			return true
		}
	}
	return false
}
