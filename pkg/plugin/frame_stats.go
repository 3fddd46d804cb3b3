package plugin

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"unicode"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// queryStats flattens lode's "stats" object ({"summary":{"execTime":0.1,...},"querier":{...}})
// into frame-meta stats that Grafana's query inspector lists: one entry per number, named
// "Summary: exec time", with a unit when the key says what it measures. The summary comes
// first and complete; of the detailed sections (querier, ingester, cache) only non-zero
// numbers are kept, so that the inspector shows what the query did rather than ~80 zeros.
func queryStats(raw json.RawMessage) []data.QueryStat {
	if len(raw) == 0 {
		return nil
	}
	var root map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&root) != nil {
		return nil
	}
	var out []data.QueryStat
	for _, k := range sortedStatKeys(root) {
		out = appendStats(out, []string{k}, root[k])
	}
	return out
}

func sortedStatKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == "summary") != (keys[j] == "summary") {
			return keys[i] == "summary"
		}
		return keys[i] < keys[j]
	})
	return keys
}

func appendStats(out []data.QueryStat, path []string, v any) []data.QueryStat {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedStatKeys(x) {
			out = appendStats(out, append(path[:len(path):len(path)], k), x[k])
		}
	case json.Number:
		f, err := x.Float64()
		if err != nil || (f == 0 && path[0] != "summary") {
			return out
		}
		return append(out, data.QueryStat{
			FieldConfig: data.FieldConfig{DisplayName: statName(path), Unit: statUnit(path[len(path)-1])},
			Value:       f,
		})
	}
	return out
}

// statName turns ["querier","store","totalChunksRef"] into "Querier: store total chunks ref".
func statName(path []string) string {
	var b strings.Builder
	for i, p := range path {
		switch i {
		case 0:
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
			if len(path) > 1 {
				b.WriteString(":")
			}
		default:
			b.WriteByte(' ')
			b.WriteString(splitCamel(p))
		}
	}
	return b.String()
}

func splitCamel(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte(' ')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// statUnit guesses the Grafana unit of a stat from its key.
func statUnit(key string) string {
	k := strings.ToLower(key)
	switch {
	case strings.Contains(k, "bytes") && strings.HasSuffix(k, "persecond"):
		return "Bps"
	case strings.Contains(k, "bytes") || strings.HasSuffix(k, "size"):
		return "decbytes"
	case strings.HasSuffix(k, "time"):
		return "s"
	}
	return ""
}
