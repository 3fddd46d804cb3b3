package logql

import (
	"math"
	"strconv"
	"strings"
	"time"
)

var durationUnits = [...]struct {
	name string
	d    time.Duration
}{
	{"ns", time.Nanosecond}, {"us", time.Microsecond}, {"µs", time.Microsecond}, {"ms", time.Millisecond},
	{"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour},
	{"w", 7 * 24 * time.Hour}, {"y", 365 * 24 * time.Hour},
}

// ParseDuration parses a LogQL duration: Prometheus units (1y2w3d4h5m6s7ms)
// and Go units (1.5h, 300us, 2µs, 10ns) in any order, as Loki accepts either.
// A leading '-' negates.
func ParseDuration(s string) (time.Duration, bool) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	d, ok := parseDuration(s)
	if neg {
		d = -d
	}
	return d, ok
}

// parseDuration parses an unsigned duration without allocating.
func parseDuration(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	var total uint64
	for s != "" {
		i := 0
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		intPart, fracStart := s[:i], i
		if i < len(s) && s[i] == '.' {
			i++
			for i < len(s) && isDigit(s[i]) {
				i++
			}
		}
		frac := s[min(fracStart+1, i):i]
		if intPart == "" && frac == "" {
			return 0, false
		}
		j := i
		for j < len(s) && !isDigit(s[j]) && s[j] != '.' {
			j++
		}
		unit, ok := lookupDurationUnit(s[i:j])
		if !ok {
			return 0, false
		}
		v, ok := scaleDecimal(intPart, frac, uint64(unit))
		if !ok || total+v < total || total+v > math.MaxInt64 {
			return 0, false
		}
		total += v
		s = s[j:]
	}
	return time.Duration(total), true
}

func lookupDurationUnit(u string) (time.Duration, bool) {
	for _, du := range durationUnits {
		if du.name == u {
			return du.d, true
		}
	}
	return 0, false
}

// scaleDecimal returns (intPart.frac) * unit, or false on overflow.
func scaleDecimal(intPart, frac string, unit uint64) (uint64, bool) {
	var v uint64
	for i := 0; i < len(intPart); i++ {
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(intPart[i]-'0')
	}
	if v != 0 && v > math.MaxInt64/unit {
		return 0, false
	}
	v *= unit
	if frac != "" {
		f, scale := uint64(0), 1.0
		for i := 0; i < len(frac) && i < 18; i++ {
			f = f*10 + uint64(frac[i]-'0')
			scale *= 10
		}
		v += uint64(float64(f) * (float64(unit) / scale))
	}
	return v, true
}

var byteUnits = [...]struct {
	name string
	mult uint64
}{
	{"B", 1}, {"KB", 1e3}, {"KiB", 1 << 10}, {"MB", 1e6}, {"MiB", 1 << 20}, {"GB", 1e9}, {"GiB", 1 << 30},
	{"TB", 1e12}, {"TiB", 1 << 40}, {"PB", 1e15}, {"PiB", 1 << 50},
}

// ParseBytes parses a byte size as Loki does (humanize): a decimal number and
// a case-insensitive unit: B, kB/K, KiB/Ki, MB/M, MiB/Mi ... up to PiB.
// SI units are powers of 1000, IEC units powers of 1024.
func ParseBytes(s string) (uint64, bool) { return parseBytes(s) }

func parseBytes(s string) (uint64, bool) {
	i := 0
	for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
		i++
	}
	if i == 0 {
		return 0, false
	}
	num, unit := s[:i], strings.TrimLeft(s[i:], " ")
	mult, ok := lookupBytesUnit(unit)
	if !ok {
		return 0, false
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil || (n != 0 && n > math.MaxUint64/mult) {
			return 0, false
		}
		return n * mult, true
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, false
	}
	v := f * float64(mult)
	if v >= math.MaxUint64 {
		return 0, false
	}
	return uint64(v), true
}

func lookupBytesUnit(u string) (uint64, bool) {
	if u == "" {
		return 1, true
	}
	for _, bu := range byteUnits {
		if strings.EqualFold(u, bu.name) {
			return bu.mult, true
		}
		// Short forms: K, Ki, M, Mi ... (not for B itself).
		if len(bu.name) > 1 && strings.EqualFold(u, bu.name[:len(bu.name)-1]) {
			return bu.mult, true
		}
	}
	return 0, false
}
