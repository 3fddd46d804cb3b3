package plugin

import "strings"

// levelScanBytes is how much of a line is searched for a level.
const levelScanBytes = 256

// levelOf returns the level of a log entry, in Grafana's level names (critical, error, warning,
// info, debug, trace): from a level label when there is one, else from the start of the line
// (logfmt level=…, JSON "level":"…", or an upper-case severity word such as ERROR). It returns
// "" when nothing says, so that Grafana can apply its own guess.
func levelOf(labels map[string]string, line string) string {
	// Labels that carry a level, in order of preference.
	for _, k := range [...]string{"level", "detected_level", "lvl", "severity", "loglevel", "log_level"} {
		if v, ok := labels[k]; ok && v != "" {
			if n := normalizeLevel(v); n != "" {
				return n
			}
			return strings.ToLower(v)
		}
	}
	if len(line) > levelScanBytes {
		line = line[:levelScanBytes]
	}
	if v := keyedLevel(line); v != "" {
		if n := normalizeLevel(v); n != "" {
			return n
		}
	}
	return wordLevel(line)
}

// normalizeLevel maps the many spellings of levels to Grafana's names; "" if unknown.
func normalizeLevel(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "emerg", "emergency", "alert", "crit", "critical", "fatal", "panic", "dpanic":
		return "critical"
	case "err", "eror", "error":
		return "error"
	case "warn", "warning":
		return "warning"
	case "info", "information", "informational", "notice":
		return "info"
	case "dbug", "debug":
		return "debug"
	case "trace":
		return "trace"
	}
	return ""
}

// keyedLevel finds level=x, "level":"x" (and lvl, severity) in a logfmt or JSON line.
func keyedLevel(line string) string {
	for _, key := range [...]string{"level", "lvl", "severity"} {
		for from := 0; from < len(line); {
			i := strings.Index(line[from:], key)
			if i < 0 {
				break
			}
			i += from
			from = i + len(key)
			if i > 0 && isWordByte(line[i-1]) {
				continue
			}
			rest := line[from:]
			rest = strings.TrimPrefix(rest, `"`)
			rest = strings.TrimLeft(rest, " ")
			if rest == "" || (rest[0] != '=' && rest[0] != ':') {
				continue
			}
			rest = strings.TrimLeft(rest[1:], ` "`)
			end := 0
			for end < len(rest) && isWordByte(rest[end]) {
				end++
			}
			if end > 0 {
				return rest[:end]
			}
		}
	}
	return ""
}

// wordLevel finds an upper-case severity word ("ERROR", "[WARN]", "E:" is not enough) in the line.
func wordLevel(line string) string {
	for i := 0; i < len(line); {
		for i < len(line) && !isUpper(line[i]) {
			i++
		}
		j := i
		for j < len(line) && isUpper(line[j]) {
			j++
		}
		if j > i && (i == 0 || !isWordByte(line[i-1])) && (j == len(line) || !isWordByte(line[j])) {
			switch line[i:j] {
			case "FATAL", "CRITICAL", "CRIT", "PANIC", "EMERG", "ALERT":
				return "critical"
			case "ERROR", "ERR":
				return "error"
			case "WARN", "WARNING":
				return "warning"
			case "INFO", "NOTICE":
				return "info"
			case "DEBUG", "DBG":
				return "debug"
			case "TRACE":
				return "trace"
			}
		}
		i = j
	}
	return ""
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
