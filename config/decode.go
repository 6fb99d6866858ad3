package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decodeStrict decodes YAML into c, refusing unknown keys with the dotted
// name of the key and its line.
func decodeStrict(b []byte, c *Config) error {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return fmt.Errorf("config: %s", oneLine(err.Error()))
	}
	if len(root.Content) == 0 {
		return nil
	}
	if err := checkKeys(root.Content[0], reflect.TypeOf(*c), ""); err != nil {
		return err
	}
	if err := root.Content[0].Decode(c); err != nil {
		return fmt.Errorf("config: %s", oneLine(err.Error()))
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func checkKeys(n *yaml.Node, t reflect.Type, prefix string) error {
	if t.Kind() != reflect.Struct {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		return bad(strings.TrimSuffix(prefix, "."), "line %d: expected a mapping", n.Line)
	}
	fields := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag := yamlName(f); tag != "" {
			fields[tag] = f
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, ok := fields[k.Value]
		if !ok {
			return bad(prefix+k.Value, "line %d: unknown key", k.Line)
		}
		if err := checkKeys(v, f.Type, prefix+k.Value+"."); err != nil {
			return err
		}
	}
	return nil
}

func yamlName(f reflect.StructField) string {
	tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
	if tag == "-" {
		return ""
	}
	return tag
}

// applyEnv sets every field named by a BERTH_<PATH> variable, where PATH is
// the field's dotted YAML name upper-cased with "." and "_" both as "_"
// (BERTH_STORAGE_S3_ACCESS_KEY). Unknown BERTH_ variables are errors: a typo
// must not silently leave a default in place.
func applyEnv(c *Config, env []string) error {
	setters := map[string]reflect.Value{}
	names := map[string]string{}
	collect(reflect.ValueOf(c).Elem(), "", setters, names)
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, "BERTH_") || isToolVar(k) {
			continue
		}
		fv, ok := setters[k]
		if !ok {
			return bad(k, "unknown environment variable")
		}
		if err := setScalar(fv, v); err != nil {
			return bad(names[k], "from %s: %v", k, err)
		}
	}
	return nil
}

// isToolVar lists BERTH_ variables that belong to the scripts and tests,
// not to the server.
func isToolVar(k string) bool {
	switch k {
	case "BERTH_TOOLS", "BERTH_SKIP_MINIO", "BERTH_SKIP_POSTGRES", "BERTH_CONFIG", "BERTH_BIN":
		return true
	}
	return strings.HasPrefix(k, "BERTH_TEST_") || strings.HasPrefix(k, "BERTH_BENCH_")
}

func collect(v reflect.Value, prefix string, setters map[string]reflect.Value, names map[string]string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := yamlName(t.Field(i))
		if name == "" || !t.Field(i).IsExported() {
			continue
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			collect(fv, prefix+name+".", setters, names)
			continue
		}
		env := "BERTH_" + strings.ToUpper(strings.ReplaceAll(prefix+name, ".", "_"))
		setters[env] = fv
		names[env] = prefix + name
	}
}

func setScalar(v reflect.Value, s string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		v.SetInt(n)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type")
		}
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		v.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("unsupported type %s", v.Kind())
	}
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive")
	}
	return d, nil
}

// validated is s parsed by parseDuration, for the accessors of duration
// fields: Validate has already refused a value that does not parse, and
// an empty one (0) means the component's default.
func validated(s string) time.Duration {
	d, _ := parseDuration(s)
	return d
}

// PurgeAge is the parsed upload purge age.
func (r Registry) PurgeAge() time.Duration { return validated(r.UploadPurgeAge) }
