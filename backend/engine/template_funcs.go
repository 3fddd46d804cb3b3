package engine

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/grafana/regexp"

	"github.com/lode-logs/lode/backend/logql"
)

// templateState is what __line__ and __timestamp__ read: the line and time
// of the entry being formatted.
type templateState struct {
	line []byte
	ts   int64
}

// newTemplate parses text with Loki's template functions; missing labels
// render as the empty string.
func newTemplate(name, text string, st *templateState) (*template.Template, error) {
	funcs := templateFuncs()
	funcs["__line__"] = func() string { return string(st.line) }
	funcs["__timestamp__"] = func() time.Time { return time.Unix(0, st.ts) }
	t, err := template.New(name).Option("missingkey=zero").Funcs(funcs).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parse template %q: %w", text, err)
	}
	return t, nil
}

// templateFuncs returns the functions Loki offers in line_format and
// label_format (Go's text/template builtins such as printf, eq, and, or come
// on top).
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		// Go strings functions under their Go names.
		"ToLower": strings.ToLower, "ToUpper": strings.ToUpper, "Replace": strings.Replace,
		"Trim": strings.Trim, "TrimLeft": strings.TrimLeft, "TrimRight": strings.TrimRight,
		"TrimPrefix": strings.TrimPrefix, "TrimSuffix": strings.TrimSuffix, "TrimSpace": strings.TrimSpace,
		// String functions, arguments in pipeline order (source last).
		"lower": strings.ToLower, "upper": strings.ToUpper, "title": titleCase,
		"trunc": trunc, "substr": substr, "repeat": func(n int, s string) string { return strings.Repeat(s, max(n, 0)) },
		"contains":  func(sub, s string) bool { return strings.Contains(s, sub) },
		"hasPrefix": func(p, s string) bool { return strings.HasPrefix(s, p) },
		"hasSuffix": func(p, s string) bool { return strings.HasSuffix(s, p) },
		"indent":    indent, "nindent": func(n int, s string) string { return "\n" + indent(n, s) },
		"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		"trim":       strings.TrimSpace,
		"trimAll":    func(cut, s string) string { return strings.Trim(s, cut) },
		"trimPrefix": func(p, s string) string { return strings.TrimPrefix(s, p) },
		"trimSuffix": func(p, s string) string { return strings.TrimSuffix(s, p) },
		"alignLeft":  alignLeft, "alignRight": alignRight,
		"default":   dflt,
		"urlencode": url.QueryEscape, "urldecode": url.QueryUnescape,
		"b64enc": func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"b64dec": b64dec,
		// Regular expressions.
		"regexReplaceAll":        regexReplaceAll,
		"regexReplaceAllLiteral": regexReplaceAllLiteral,
		"count":                  regexCount,
		// Numbers.
		"int": toInt, "float64": toFloat64,
		"add": addInts, "sub": func(a, b any) int64 { return toInt64(a) - toInt64(b) },
		"mul": mulInts, "div": divInts, "mod": modInts,
		"addf": addFloats, "subf": subFloats, "mulf": mulFloats, "divf": divFloats,
		"max": maxInts, "min": minInts, "maxf": maxFloats, "minf": minFloats,
		"ceil":  func(a any) float64 { return math.Ceil(toFloat64(a)) },
		"floor": func(a any) float64 { return math.Floor(toFloat64(a)) },
		"round": round,
		// Units.
		"bytes": convertBytes, "duration": convertDuration, "duration_seconds": convertDuration,
		// Time.
		"now": time.Now, "date": formatDate, "toDate": toDate, "toDateInZone": toDateInZone,
		"unixEpoch":       func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) },
		"unixEpochMillis": func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) },
		"unixEpochNanos":  func(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) },
		"unixToTime":      unixToTime,
		// JSON.
		"fromJson": fromJSON,
	}
}

func titleCase(s string) string {
	prev := ' '
	var sb strings.Builder
	for _, r := range s {
		if isSeparator(prev) {
			sb.WriteString(strings.ToTitle(string(r)))
		} else {
			sb.WriteRune(r)
		}
		prev = r
	}
	return sb.String()
}

func isSeparator(r rune) bool {
	return !(r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r >= utf8.RuneSelf)
}

func trunc(c int, s string) string {
	if c < 0 && len(s)+c > 0 {
		return s[len(s)+c:]
	}
	if c >= 0 && len(s) > c {
		return s[:c]
	}
	return s
}

func substr(start, end int, s string) string {
	if start < 0 {
		return s[:min(max(end, 0), len(s))]
	}
	if start > len(s) {
		return ""
	}
	if end < 0 || end > len(s) {
		return s[start:]
	}
	if start > end {
		return ""
	}
	return s[start:end]
}

func indent(n int, s string) string {
	pad := strings.Repeat(" ", max(n, 0))
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

func alignLeft(n int, s string) string {
	if c := utf8.RuneCountInString(s); c < n {
		return s + strings.Repeat(" ", n-c)
	}
	r := []rune(s)
	return string(r[:max(n, 0)])
}

func alignRight(n int, s string) string {
	if c := utf8.RuneCountInString(s); c < n {
		return strings.Repeat(" ", n-c) + s
	}
	r := []rune(s)
	return string(r[len(r)-max(n, 0):])
}

// dflt returns d when the value is missing or empty, else the value.
func dflt(d any, given ...any) any {
	if len(given) == 0 || isEmptyValue(given[0]) {
		return d
	}
	return given[0]
}

func isEmptyValue(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		return rv.Len() == 0
	case reflect.Bool:
		return !rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return rv.Float() == 0
	case reflect.Pointer, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

func b64dec(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func regexReplaceAll(re, s, repl string) (string, error) {
	r, err := regexp.Compile(re)
	if err != nil {
		return "", err
	}
	return r.ReplaceAllString(s, repl), nil
}

func regexReplaceAllLiteral(re, s, repl string) (string, error) {
	r, err := regexp.Compile(re)
	if err != nil {
		return "", err
	}
	return r.ReplaceAllLiteralString(s, repl), nil
}

func regexCount(re, s string) (int, error) {
	r, err := regexp.Compile(re)
	if err != nil {
		return 0, err
	}
	return len(r.FindAllStringIndex(s, -1)), nil
}

// toInt64 converts like sprig's cast: numbers truncate, strings parse as
// integers (base prefixes allowed, "3.0" accepted), anything else is 0.
func toInt64(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case int32:
		return int64(x)
	case uint:
		return int64(x)
	case uint64:
		return int64(x)
	case float64:
		return int64(x)
	case float32:
		return int64(x)
	case bool:
		if x {
			return 1
		}
		return 0
	case string:
		s := x
		if i := strings.IndexByte(s, '.'); i >= 0 && strings.Trim(s[i+1:], "0") == "" {
			s = s[:i]
		}
		n, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			return 0
		}
		return n
	}
	return 0
}

func toInt(v any) int { return int(toInt64(v)) }

func toFloat64(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0
		}
		return f
	}
	return float64(toInt64(v))
}

func addInts(vs ...any) int64 {
	var s int64
	for _, v := range vs {
		s += toInt64(v)
	}
	return s
}

func mulInts(a any, vs ...any) int64 {
	p := toInt64(a)
	for _, v := range vs {
		p *= toInt64(v)
	}
	return p
}

func divInts(a, b any) (int64, error) {
	d := toInt64(b)
	if d == 0 {
		return 0, fmt.Errorf("integer divide by zero")
	}
	return toInt64(a) / d, nil
}

func modInts(a, b any) (int64, error) {
	d := toInt64(b)
	if d == 0 {
		return 0, fmt.Errorf("integer divide by zero")
	}
	return toInt64(a) % d, nil
}

func addFloats(vs ...any) float64 {
	var s float64
	for _, v := range vs {
		s += toFloat64(v)
	}
	return s
}

func subFloats(a any, vs ...any) float64 {
	s := toFloat64(a)
	for _, v := range vs {
		s -= toFloat64(v)
	}
	return s
}

func mulFloats(a any, vs ...any) float64 {
	p := toFloat64(a)
	for _, v := range vs {
		p *= toFloat64(v)
	}
	return p
}

func divFloats(a any, vs ...any) float64 {
	q := toFloat64(a)
	for _, v := range vs {
		q /= toFloat64(v)
	}
	return q
}

func maxInts(a any, vs ...any) int64 {
	m := toInt64(a)
	for _, v := range vs {
		m = max(m, toInt64(v))
	}
	return m
}

func minInts(a any, vs ...any) int64 {
	m := toInt64(a)
	for _, v := range vs {
		m = min(m, toInt64(v))
	}
	return m
}

func maxFloats(a any, vs ...any) float64 {
	m := toFloat64(a)
	for _, v := range vs {
		m = math.Max(m, toFloat64(v))
	}
	return m
}

func minFloats(a any, vs ...any) float64 {
	m := toFloat64(a)
	for _, v := range vs {
		m = math.Min(m, toFloat64(v))
	}
	return m
}

// round rounds to p decimals; the fraction rounds up from roundOn (0.5).
func round(a any, p int, rOpt ...float64) float64 {
	roundOn := 0.5
	if len(rOpt) > 0 {
		roundOn = rOpt[0]
	}
	pow := math.Pow(10, float64(p))
	digit := pow * toFloat64(a)
	_, frac := math.Modf(digit)
	if frac >= roundOn {
		return math.Ceil(digit) / pow
	}
	return math.Floor(digit) / pow
}

func convertBytes(s string) (float64, error) {
	n, ok := logql.ParseBytes(s)
	if !ok {
		return 0, fmt.Errorf("cannot parse %q as bytes", s)
	}
	return float64(n), nil
}

func convertDuration(s string) (float64, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return d.Seconds(), nil
}

func formatDate(layout string, date any) string {
	var t time.Time
	switch d := date.(type) {
	case time.Time:
		t = d
	case *time.Time:
		t = *d
	case int64:
		t = time.Unix(d, 0)
	case int:
		t = time.Unix(int64(d), 0)
	case int32:
		t = time.Unix(int64(d), 0)
	default:
		t = time.Now()
	}
	return t.In(time.Local).Format(layout)
}

func toDate(layout, s string) time.Time {
	t, _ := time.ParseInLocation(layout, s, time.Local)
	return t
}

func toDateInZone(layout, zone, s string) time.Time {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	t, _ := time.ParseInLocation(layout, s, loc)
	return t
}

// unixToTime reads an epoch in days (5 digits), seconds (10), milliseconds
// (13), microseconds (16) or nanoseconds (19), as Loki does.
func unixToTime(epoch string) (time.Time, error) {
	n, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("unable to parse time %q: %w", epoch, err)
	}
	switch len(epoch) {
	case 5:
		return time.Unix(n*86400, 0), nil
	case 10:
		return time.Unix(n, 0), nil
	case 13:
		return time.UnixMilli(n), nil
	case 16:
		return time.UnixMicro(n), nil
	case 19:
		return time.Unix(0, n), nil
	}
	return time.Time{}, fmt.Errorf("unable to parse time %q: unknown epoch precision", epoch)
}

func fromJSON(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return ""
	}
	return v
}
