package policy

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
)

// rawValue is a decoded JSON value (string, json.Number, bool, nil, []any,
// map[string]any) with the accessors the policy grammar needs.
type rawValue struct{ v any }

type kv struct {
	key   string
	value rawValue
}

// decodeJSON decodes one JSON value and refuses trailing data.
func decodeJSON(doc string) (rawValue, bool) {
	dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return rawValue{}, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return rawValue{}, false
	}
	return rawValue{v}, true
}

func (r rawValue) str() (string, bool) {
	s, ok := r.v.(string)
	return s, ok
}

func (r rawValue) list() ([]any, bool) {
	l, ok := r.v.([]any)
	return l, ok
}

// object returns the members sorted by key, so that errors and compiled
// forms do not depend on Go's map order.
func (r rawValue) object() ([]kv, bool) {
	m, ok := r.v.(map[string]any)
	if !ok {
		return nil, false
	}
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, rawValue{v}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out, true
}

// strings accepts a string or a list of strings (Action, Resource,
// principal values).
func (r rawValue) strings() ([]string, bool) {
	if s, ok := r.v.(string); ok {
		return []string{s}, true
	}
	l, ok := r.v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// scalars accepts a string, number or boolean, or a list of them (condition
// values); numbers keep their JSON spelling, booleans become true/false.
func (r rawValue) scalars() ([]string, bool) {
	if s, ok := scalar(r.v); ok {
		return []string{s}, true
	}
	l, ok := r.v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := scalar(e)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	}
	return "", false
}
