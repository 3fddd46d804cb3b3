package logql

import (
	"fmt"
	"net/netip"
	"strings"
)

// IPPattern is the argument of ip("..."): one address, a CIDR prefix or an
// inclusive range "from-to" of one address family.
type IPPattern struct {
	prefix   netip.Prefix // valid for a CIDR or a single address
	from, to netip.Addr   // valid for a range
}

// ParseIPPattern parses an ip() argument: "192.168.0.1", "10.0.0.0/8",
// "192.168.0.10-192.168.0.20", or their IPv6 forms.
func ParseIPPattern(s string) (IPPattern, error) {
	s = strings.TrimSpace(s)
	if from, to, ok := strings.Cut(s, "-"); ok {
		a, err1 := netip.ParseAddr(strings.TrimSpace(from))
		b, err2 := netip.ParseAddr(strings.TrimSpace(to))
		if err1 != nil || err2 != nil || a.Is4() != b.Is4() || b.Less(a) {
			return IPPattern{}, fmt.Errorf("ip: invalid pattern: %s", s)
		}
		return IPPattern{from: a, to: b}, nil
	}
	if strings.Contains(s, "/") {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return IPPattern{}, fmt.Errorf("ip: invalid pattern: %s", s)
		}
		return IPPattern{prefix: pfx.Masked()}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return IPPattern{}, fmt.Errorf("ip: invalid pattern: %s", s)
	}
	return IPPattern{prefix: netip.PrefixFrom(a, a.BitLen())}, nil
}

// Contains reports whether a is inside the pattern. IPv4-mapped IPv6
// addresses are compared as IPv4.
func (p IPPattern) Contains(a netip.Addr) bool {
	a = a.Unmap()
	if p.prefix.IsValid() {
		return p.prefix.Contains(a)
	}
	return p.from.Is4() == a.Is4() && !a.Less(p.from) && !p.to.Less(a)
}
