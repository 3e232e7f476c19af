package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

// leafKeys lists section.key for every leaf of a config JSON object, and
// section.group.key inside the nested groups of keys (cdn.cloudflare, ...).
func leafKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	groups := groupKeys()
	var keys []string
	for s, kv := range m {
		for k, raw := range kv {
			if k == CommentKey {
				continue
			}
			if !groups[s+"."+k] {
				keys = append(keys, s+"."+k)
				continue
			}
			var sub map[string]json.RawMessage
			if err := json.Unmarshal(raw, &sub); err != nil {
				t.Fatalf("%s.%s: %v", s, k, err)
			}
			for sk := range sub {
				keys = append(keys, s+"."+k+"."+sk)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// groupKeys are the section.key paths of nested groups of keys.
func groupKeys() map[string]bool {
	out := map[string]bool{}
	c := Default()
	root := reflect.ValueOf(&c).Elem()
	for i := 0; i < root.NumField(); i++ {
		sv := root.Field(i)
		for j := 0; j < sv.NumField(); j++ {
			if isGroup(sv.Field(j)) {
				out[jsonName(root.Type().Field(i))+"."+jsonName(sv.Type().Field(j))] = true
			}
		}
	}
	return out
}

// TestExampleDocumentsEveryKey keeps config.example.json complete and valid.
func TestExampleDocumentsEveryKey(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "config.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	all, _ := json.Marshal(Default())
	want, got := leafKeys(t, all), leafKeys(t, example)
	if !equal(want, got) {
		t.Fatalf("config.example.json keys differ from the Config tree:\nwant %v\ngot  %v", want, got)
	}
	c := Default()
	example, err = stripComments(example)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(example))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("the example does not validate: %v", err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
