package stages

import (
	"errors"

	"gopkg.in/yaml.v3"

	"github.com/lode-logs/lode/backend/agent/config"
)

// ErrInvalidStage is wrapped by every error of New: a stage that does not
// compile (unknown name or key, bad value). The *config.KeyError inside
// names the line and the key.
var ErrInvalidStage = errors.New("invalid pipeline stage")

// Reasons under which stages count dropped lines (the reason label of the
// dropped-lines counter); a drop stage may name its own.
const (
	ReasonDropStage     = "drop_stage"
	ReasonMatchStage    = "match_stage"
	ReasonLimitStage    = "limit_stage"
	ReasonMalformedJSON = "malformed_json"
)

type stageError struct{ err error }

func (e *stageError) Error() string { return e.err.Error() }
func (e *stageError) Unwrap() []error {
	return []error{ErrInvalidStage, e.err}
}

func stageErr(n *yaml.Node, path, format string, args ...any) error {
	return &stageError{err: config.NodeError(n, path, format, args...)}
}

// decode decodes a stage body strictly into out.
func decode(n *yaml.Node, out any, path string) error {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "") {
		return nil // `- docker:` or `- docker: {}`
	}
	if err := config.DecodeStrict(n, out, path); err != nil {
		return &stageError{err: err}
	}
	return nil
}
