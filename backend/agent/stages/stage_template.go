package stages

import (
	"crypto/sha256"
	"crypto/sha3"
	"encoding/hex"
	"strconv"
	"strings"
	"text/template"

	"github.com/grafana/regexp"

	"gopkg.in/yaml.v3"
)

// template: extracted[source] = the template executed over the extracted
// data, with .Value (the current value of source) and .Entry (the line).
type templateConfig struct {
	Source   string `yaml:"source"`
	Template string `yaml:"template"`
}

func newTemplateStage(p *Pipeline, n *yaml.Node, path string) (stageDef, error) {
	var c templateConfig
	if err := decode(n, &c, path); err != nil {
		return nil, err
	}
	if c.Source == "" {
		return nil, stageErr(n, path, "source is required")
	}
	t, err := parseTemplate(c.Source, c.Template)
	if err != nil {
		return nil, stageErr(n, path+".template", "%v", err)
	}
	return funcStage{f: func(e *Entry) bool {
		v, _ := extractedString(e, c.Source)
		setExtracted(e, c.Source, execTemplate(t, e, v))
		return true
	}}, nil
}

func parseTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Option("missingkey=zero").Funcs(templateFuncs()).Parse(text)
}

// execTemplate runs t over the extracted data of e plus Value and Entry.
// A template that fails renders as the empty string.
func execTemplate(t *template.Template, e *Entry, value string) string {
	data := make(map[string]any, len(e.Extracted)+2)
	for k, v := range e.Extracted {
		data[k] = v
	}
	data["Value"] = value
	data["Entry"] = string(e.Line)
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return ""
	}
	return strings.ReplaceAll(b.String(), "<no value>", "")
}

// templateFuncs are Promtail's template functions and the common sprig
// string helpers.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"ToLower": strings.ToLower, "ToUpper": strings.ToUpper, "Replace": strings.Replace,
		"Trim": strings.Trim, "TrimLeft": strings.TrimLeft, "TrimRight": strings.TrimRight,
		"TrimPrefix": strings.TrimPrefix, "TrimSuffix": strings.TrimSuffix, "TrimSpace": strings.TrimSpace,
		"lower": strings.ToLower, "upper": strings.ToUpper, "trim": strings.TrimSpace,
		"trimAll":    func(cut, s string) string { return strings.Trim(s, cut) },
		"trimPrefix": func(p, s string) string { return strings.TrimPrefix(s, p) },
		"trimSuffix": func(p, s string) string { return strings.TrimSuffix(s, p) },
		"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		"contains":   func(sub, s string) bool { return strings.Contains(s, sub) },
		"hasPrefix":  func(p, s string) bool { return strings.HasPrefix(s, p) },
		"hasSuffix":  func(p, s string) bool { return strings.HasSuffix(s, p) },
		"substr":     substr,
		"default": func(def any, v any) any {
			if s, ok := toString(v); !ok || s == "" {
				return def
			}
			return v
		},
		"add": func(a, b any) int64 { return toInt(a) + toInt(b) },
		"sub": func(a, b any) int64 { return toInt(a) - toInt(b) },
		"regexReplaceAll": func(re, s, repl string) (string, error) {
			r, err := regexp.Compile(re)
			if err != nil {
				return "", err
			}
			return r.ReplaceAllString(s, repl), nil
		},
		"regexReplaceAllLiteral": func(re, s, repl string) (string, error) {
			r, err := regexp.Compile(re)
			if err != nil {
				return "", err
			}
			return r.ReplaceAllLiteralString(s, repl), nil
		},
		"Hash": func(s, salt string) string {
			h := sha3.Sum256([]byte(s + salt))
			return hex.EncodeToString(h[:])
		},
		"Sha2Hash": func(s, salt string) string {
			h := sha256.Sum256([]byte(s + salt))
			return hex.EncodeToString(h[:])
		},
	}
}

func substr(start, end int, s string) string {
	if start < 0 {
		start = 0
	}
	if end < 0 || end > len(s) {
		end = len(s)
	}
	if start > end {
		return ""
	}
	return s[start:end]
}

func toInt(v any) int64 {
	s, _ := toString(v)
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if ferr != nil {
			return 0
		}
		return int64(f)
	}
	return n
}
