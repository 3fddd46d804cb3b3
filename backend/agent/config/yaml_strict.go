package config

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// KeyError is a configuration problem at one place of the YAML document:
// Line and Column are 1-based, Path names the key (for example
// "scrape_configs[0].pipeline_stages[2].regex.expresion").
type KeyError struct {
	Line, Column int
	Path         string
	Msg          string
}

func (e *KeyError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Path, e.Msg)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *KeyError) Is(target error) bool { return target == ErrInvalid }

// NodeError returns a *KeyError located at n.
func NodeError(n *yaml.Node, path, format string, args ...any) error {
	return &KeyError{Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)}
}

var nodeType = reflect.TypeFor[yaml.Node]()

// DecodeStrict decodes n into out (a pointer), first checking that every
// mapping key of n names a field of out's type (following yaml tags and
// inline structs, into nested structs, slices and maps). path prefixes the
// key names in errors. Errors are *KeyError, naming the line and the key.
func DecodeStrict(n *yaml.Node, out any, path string) error {
	if err := checkKeys(n, reflect.TypeOf(out), path); err != nil {
		return err
	}
	if err := n.Decode(out); err != nil {
		return decodeError(n, path, err)
	}
	return nil
}

// decodeError turns a yaml.v3 error into a *KeyError, keeping the line
// yaml.v3 reports when it has one.
func decodeError(n *yaml.Node, path string, err error) error {
	msg := err.Error()
	if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	line := n.Line
	if _, err := fmt.Sscanf(msg, "line %d:", &line); err == nil {
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
	}
	if p, ok := pathAtLine(n, path, line); ok {
		path = p
	}
	return &KeyError{Line: line, Path: path, Msg: msg}
}

// pathAtLine returns the path of the deepest mapping value or sequence
// item of n that starts on line.
func pathAtLine(n *yaml.Node, path string, line int) (string, bool) {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return pathAtLine(n.Content[0], path, line)
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if sub, ok := pathAtLine(v, p, line); ok {
				return sub, true
			}
			if k.Line == line {
				return p, true
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if sub, ok := pathAtLine(c, fmt.Sprintf("%s[%d]", path, i), line); ok {
				return sub, true
			}
		}
	}
	return "", false
}

func checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return checkKeys(n.Content[0], t, path)
	}
	if t == nodeType {
		return nil
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := map[string]reflect.Type{}
		collectFields(t, fields)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				continue // merge keys are checked when yaml.v3 resolves them
			}
			ft, ok := fields[k.Value]
			if !ok {
				return NodeError(k, path, "unknown key %q", k.Value)
			}
			if err := checkKeys(v, ft, join(path, k.Value)); err != nil {
				return err
			}
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := checkKeys(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case n.Kind == yaml.SequenceNode && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		for i, c := range n.Content {
			if err := checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// collectFields maps the yaml keys of struct type t to field types,
// descending into inline fields.
func collectFields(t reflect.Type, out map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectFields(ft, out)
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
