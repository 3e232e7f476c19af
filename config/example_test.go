package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// leafKeys lists section.key for every leaf of a config JSON object.
func leafKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for s, kv := range m {
		for k := range kv {
			if k == CommentKey {
				continue
			}
			keys = append(keys, s+"."+k)
		}
	}
	sort.Strings(keys)
	return keys
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
