package plugin

import (
	"errors"
	"strings"

	"github.com/grafana/regexp"

	"github.com/lode-logs/lode/backend/logql"
)

// validationResult is the answer of the validate resource. Line and Column are 1-based
// (Column counts characters), ready for an editor marker.
type validationResult struct {
	Valid   bool   `json:"valid"`
	Kind    string `json:"kind,omitempty"`    // "logs" or "metric" when valid
	Error   string `json:"error,omitempty"`   // the full message, as lode would answer
	Message string `json:"message,omitempty"` // the message without its position
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

// durationVarRE matches Grafana's interval and range variables: durations, or numbers for
// the _ms and _s forms.
var durationVarRE = regexp.MustCompile(`\$__(?:auto|interval_ms|interval|rate_interval|range_ms|range_s|range)\b|\$\{__(?:auto|interval_ms|interval|rate_interval|range_ms|range_s|range)\}`)

// validateQuery parses a query with lode's own LogQL parser. Grafana's interval variables are
// replaced by durations (or numbers) of the same length first, so positions stay those of the
// text typed.
func validateQuery(q string) validationResult {
	if strings.TrimSpace(q) == "" {
		return validationResult{Error: "the query is empty", Message: "the query is empty", Line: 1, Column: 1}
	}
	text := durationVarRE.ReplaceAllStringFunc(q, func(v string) string {
		if strings.HasSuffix(strings.TrimSuffix(v, "}"), "_ms") || strings.HasSuffix(strings.TrimSuffix(v, "}"), "_s") {
			return strings.Repeat("0", len(v)-1) + "1" // a number of (milli)seconds
		}
		return strings.Repeat("0", len(v)-2) + "1s"
	})
	e, err := logql.Parse(text)
	if err != nil {
		r := validationResult{Error: err.Error(), Message: err.Error()}
		var pe *logql.ParseError
		if errors.As(err, &pe) {
			r.Message, r.Line, r.Column = pe.Msg, pe.Line, pe.Col
		}
		return r
	}
	kind := "metric"
	if _, ok := e.(*logql.LogExpr); ok {
		kind = "logs"
	}
	return validationResult{Valid: true, Kind: kind}
}
