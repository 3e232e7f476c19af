package variant

import (
	"bytes"
	"encoding/json"
	stdflag "flag"
	"os"
	"testing"
)

var updateEdgeVectors = stdflag.Bool("update-edge-vectors", false, "rewrite the computed fields of testdata/edge_vectors.json")

// edgeVectors is testdata/edge_vectors.json, which the Cloudflare edge
// worker's tests (e2e/edge) read too: the worker signs URLs and negotiates
// formats in JavaScript, and must agree with this package byte for byte.
type edgeVectors struct {
	About      string `json:"about"`
	Signatures []struct {
		Name      string `json:"name"`
		Key       string `json:"key"`
		Salt      string `json:"salt"`
		Size      int    `json:"size"`
		Path      string `json:"path"`
		Signature string `json:"signature"`
		Source    string `json:"source,omitempty"` // "imgproxy": published by imgproxy, never rewritten
	} `json:"signatures"`
	URLs []struct {
		Name     string `json:"name"`
		Key      string `json:"key"`
		Salt     string `json:"salt"`
		Size     int    `json:"size"`
		Friendly string `json:"friendly"` // the edge's URL; the worker's test maps it to options, id and ext
		Format   string `json:"format"`   // the format the edge asks for
		Options  string `json:"options"`
		ID       string `json:"id"`
		URL      string `json:"url"` // what Sign gives, prefix /img
	} `json:"urls"`
	Negotiation []struct {
		Accept string `json:"accept"`
		Format string `json:"format"`
	} `json:"negotiation"`
}

const edgeVectorsFile = "testdata/edge_vectors.json"

func TestEdgeVectors(t *testing.T) {
	b, err := os.ReadFile(edgeVectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var v edgeVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	for i, c := range v.Signatures {
		s := signer(t, c.Size, Key{Key: c.Key, Salt: c.Salt})
		got := s.Signature(c.Path)
		if *updateEdgeVectors && c.Source == "" {
			v.Signatures[i].Signature = got
			continue
		}
		if got != c.Signature {
			t.Errorf("%s: Signature(%q) = %q, want %q", c.Name, c.Path, got, c.Signature)
		}
		if err := s.Verify(c.Signature, c.Path); err != nil {
			t.Errorf("%s: Verify: %v", c.Name, err)
		}
	}
	presets := Presets{"thumb": {"rs:fill:320:320"}}
	for i, c := range v.URLs {
		s, err := NewSigner(SignerConfig{Keys: []Key{{Key: c.Key, Salt: c.Salt}}, SignatureSize: c.Size, Presets: presets})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Sign(c.Options, c.ID, c.Format, 0)
		if err != nil {
			t.Errorf("%s: Sign: %v", c.Name, err)
			continue
		}
		if *updateEdgeVectors {
			v.URLs[i].URL = got
		} else if got != c.URL {
			t.Errorf("%s: Sign(%q, %q, %q) = %q, want %q", c.Name, c.Options, c.ID, c.Format, got, c.URL)
		}
	}
	for _, c := range v.Negotiation {
		if got := Negotiate(c.Accept, nil, false, false); got != c.Format {
			t.Errorf("Negotiate(%q) = %q, want %q", c.Accept, got, c.Format)
		}
	}
	if *updateEdgeVectors {
		writeEdgeVectors(t, &v)
	}
}

// writeEdgeVectors writes one entry a line, so that a diff shows which
// vector changed.
func writeEdgeVectors(t *testing.T, v *edgeVectors) {
	t.Helper()
	var buf bytes.Buffer
	line := func(x any) []byte {
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	list := func(name string, n int, at func(int) any, last bool) {
		buf.WriteString("  " + string(line(name)) + ": [\n")
		for i := 0; i < n; i++ {
			buf.WriteString("    ")
			buf.Write(line(at(i)))
			if i < n-1 {
				buf.WriteString(",")
			}
			buf.WriteString("\n")
		}
		buf.WriteString("  ]")
		if !last {
			buf.WriteString(",")
		}
		buf.WriteString("\n")
	}
	buf.WriteString("{\n  \"about\": " + string(line(v.About)) + ",\n")
	list("signatures", len(v.Signatures), func(i int) any { return v.Signatures[i] }, false)
	list("urls", len(v.URLs), func(i int) any { return v.URLs[i] }, false)
	list("negotiation", len(v.Negotiation), func(i int) any { return v.Negotiation[i] }, true)
	buf.WriteString("}\n")
	if err := os.WriteFile(edgeVectorsFile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
