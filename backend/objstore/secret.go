package objstore

// Secret is a string setting that must not be printed: YAML, JSON and fmt
// render it as "<secret>" (or "" when unset), so /config can show the
// effective configuration without leaking credentials. Read the value with
// a conversion: string(s).
type Secret string

const redacted = "<secret>"

func (s Secret) redacted() string {
	if s == "" {
		return ""
	}
	return redacted
}

// String redacts the value for fmt and log output.
func (s Secret) String() string { return s.redacted() }

// GoString redacts the value for %#v.
func (s Secret) GoString() string { return `"` + s.redacted() + `"` }

// MarshalYAML redacts the value (gopkg.in/yaml.v3 and go.yaml.in/yaml/v3).
func (s Secret) MarshalYAML() (any, error) { return s.redacted(), nil }

// MarshalText redacts the value (encoding/json and other text encoders).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.redacted()), nil }
