package limits

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a size in bytes. It reads a plain integer ("262144") or a
// number with a unit: B, KB/KiB/K, MB/MiB/M, GB/GiB/G (case-insensitive,
// all powers of 1024, so "256KB" is 262144). It writes the largest exact
// unit ("256KiB"). It implements flag.Value and YAML (un)marshalling.
type ByteSize int64

var byteUnits = []struct {
	names []string
	size  int64
}{
	{[]string{"gib", "gb", "g"}, 1 << 30},
	{[]string{"mib", "mb", "m"}, 1 << 20},
	{[]string{"kib", "kb", "k"}, 1 << 10},
	{[]string{"b", ""}, 1},
}

func (b ByteSize) String() string {
	for _, u := range byteUnits[:3] {
		if b != 0 && int64(b)%u.size == 0 {
			return strconv.FormatInt(int64(b)/u.size, 10) + strings.ToUpper(u.names[0][:1]) + "iB"
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// Set parses s (see ByteSize).
func (b *ByteSize) Set(s string) error {
	v, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

func parseByteSize(s string) (ByteSize, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	for _, u := range byteUnits {
		for _, name := range u.names {
			if unit != name {
				continue
			}
			f, err := strconv.ParseFloat(num, 64)
			if err != nil || num == "" {
				return 0, fmt.Errorf("invalid byte size %q", s)
			}
			v := math.Round(f * float64(u.size))
			if v > math.MaxInt64/2 {
				return 0, fmt.Errorf("byte size %q too large", s)
			}
			return ByteSize(v), nil
		}
	}
	return 0, fmt.Errorf("invalid byte size %q: unknown unit %q", s, unit)
}

// MarshalYAML writes the String form.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

// UnmarshalYAML reads an integer or a string with a unit.
func (b *ByteSize) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	return b.Set(s)
}
