package logql

import (
	"errors"
	"fmt"
	"text/template/parse"

	"github.com/grafana/regexp"
	"github.com/prometheus/common/model"
)

// checkRegexpParser validates the expression of "| regexp": it compiles and
// has at least one named group; names are valid label names and unique.
func checkRegexpParser(expr string) error {
	re, err := regexp.Compile(expr)
	if err != nil {
		return err
	}
	named := 0
	names := re.SubexpNames()
	for i, n := range names {
		if n == "" {
			continue
		}
		if !model.LegacyValidation.IsValidLabelName(n) {
			return fmt.Errorf("invalid extracted label name '%s'", n)
		}
		for _, prev := range names[:i] {
			if prev == n {
				return fmt.Errorf("duplicate extracted label name '%s'", n)
			}
		}
		named++
	}
	if named == 0 {
		return errors.New("at least one named capture must be supplied")
	}
	return nil
}

// PatternPart is one piece of a pattern expression (| pattern, |>, !>):
// a literal, or a capture <name> (Capture is "_" for the unnamed <_>).
type PatternPart struct {
	Literal string
	Capture string
}

// ParsePattern splits a pattern into literals and captures. A capture is
// <name> where name matches [A-Za-z_][A-Za-z0-9_]*; any other text,
// including a "<" that does not open a capture, is literal. Adjacent
// literal text is merged into one part.
func ParsePattern(s string) []PatternPart {
	var parts []PatternPart
	lit := 0
	for i := 0; i < len(s); {
		if s[i] == '<' {
			if end := captureEnd(s, i); end > 0 {
				if lit < i {
					parts = append(parts, PatternPart{Literal: s[lit:i]})
				}
				parts = append(parts, PatternPart{Capture: s[i+1 : end-1]})
				i, lit = end, end
				continue
			}
		}
		i++
	}
	if lit < len(s) {
		parts = append(parts, PatternPart{Literal: s[lit:]})
	}
	return parts
}

// captureEnd returns the index after the ">" of a capture starting at s[i],
// or 0.
func captureEnd(s string, i int) int {
	j := i + 1
	if j >= len(s) || !isIdentStart(s[j]) {
		return 0
	}
	for j < len(s) && isIdentChar(s[j]) {
		j++
	}
	if j < len(s) && s[j] == '>' {
		return j + 1
	}
	return 0
}

func checkConsecutiveCaptures(parts []PatternPart) error {
	for i := 1; i < len(parts); i++ {
		if parts[i].Capture != "" && parts[i-1].Capture != "" {
			return errors.New("found consecutive capture: invalid expression")
		}
	}
	return nil
}

// checkPatternParser validates the expression of "| pattern": at least one
// named capture, no two captures in a row, no duplicate names.
func checkPatternParser(expr string) error {
	parts := ParsePattern(expr)
	named := 0
	for i, pt := range parts {
		if pt.Capture == "" || pt.Capture == "_" {
			continue
		}
		named++
		for _, prev := range parts[:i] {
			if prev.Capture == pt.Capture {
				return fmt.Errorf("duplicate capture name (%s): invalid expression", pt.Capture)
			}
		}
	}
	if named == 0 {
		return errors.New("at least one capture is required")
	}
	return checkConsecutiveCaptures(parts)
}

// checkLinePattern validates the pattern of a |> or !> line filter: only
// unnamed <_> captures, never two in a row.
func checkLinePattern(expr string) error {
	parts := ParsePattern(expr)
	for _, pt := range parts {
		if pt.Capture != "" && pt.Capture != "_" {
			return errors.New("named captures are not allowed")
		}
	}
	return checkConsecutiveCaptures(parts)
}

// templateFuncNames lists the functions line_format and label_format
// templates may call, as Loki provides them (besides text/template's own).
var templateFuncNames = [...]string{
	"__line__", "__timestamp__",
	"ToLower", "ToUpper", "Replace", "Trim", "TrimLeft", "TrimRight", "TrimPrefix", "TrimSuffix", "TrimSpace",
	"regexReplaceAll", "regexReplaceAllLiteral", "count", "urldecode", "urlencode",
	"bytes", "duration", "duration_seconds", "unixEpochMillis", "unixEpochNanos", "toDateInZone", "unixToTime",
	"alignLeft", "alignRight",
	"b64enc", "b64dec", "lower", "upper", "title", "trunc", "substr", "contains", "hasPrefix", "hasSuffix",
	"indent", "nindent", "replace", "repeat", "trim", "trimAll", "trimSuffix", "trimPrefix",
	"int", "float64", "add", "sub", "mul", "div", "mod", "addf", "subf", "mulf", "divf",
	"max", "min", "maxf", "minf", "ceil", "floor", "round",
	"fromJson", "date", "toDate", "now", "unixEpoch", "default",
}

// TemplateFuncNames returns the names of the template functions that
// line_format and label_format accept (the evaluator must provide all of
// them), in a new slice.
func TemplateFuncNames() []string {
	return append([]string(nil), templateFuncNames[:]...)
}

// templateFuncSet holds Loki's function names and text/template's
// built-ins, for checking templates at parse time (text/template/parse
// only tests that a name maps to a non-nil value). It is never written
// after initialisation.
var templateFuncSet = func() map[string]any {
	builtins := [...]string{
		"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
		"println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
	}
	m := make(map[string]any, len(templateFuncNames)+len(builtins))
	for _, n := range templateFuncNames {
		m[n] = true
	}
	for _, n := range builtins {
		m[n] = true
	}
	return m
}()

// checkTemplate parses a template as text/template would with Loki's
// functions, without building a template (text/template/parse only checks
// that called functions exist).
func checkTemplate(name, text string) error {
	_, err := parse.Parse(name, text, "", "", templateFuncSet)
	return err
}
