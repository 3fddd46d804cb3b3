package logql

import (
	"errors"
	"fmt"
)

// ErrParse matches every error returned by Parse (errors.Is(err, ErrParse)),
// so that callers such as the HTTP API can answer 400 without knowing the
// concrete type.
var ErrParse = errors.New("parse error")

// ParseError is a syntax or validation error at a position of the query.
// Line and Col are 1-based; Col counts characters (runes), not bytes.
type ParseError struct {
	Line, Col int
	Msg       string
}

// Error formats the error as Loki does:
// "parse error at line 1, col 12: syntax error: unexpected ...".
func (e *ParseError) Error() string {
	return fmt.Sprintf("parse error at line %d, col %d: %s", e.Line, e.Col, e.Msg)
}

// Is reports whether target is ErrParse.
func (e *ParseError) Is(target error) bool { return target == ErrParse }
