package vary

import (
	"net/http"
	"testing"
)

func TestAdd(t *testing.T) {
	cases := []struct {
		name   string
		before []string // Vary lines already set
		add    []string
		want   string
	}{
		{"empty", nil, []string{"Accept"}, "Accept"},
		{"keeps what is there", []string{"Origin"}, []string{"Accept"}, "Origin, Accept"},
		{"no repeats, any case", []string{"Origin, accept"}, []string{"Accept", "ORIGIN"}, "Origin, accept"},
		{"joins several lines", []string{"Origin", "Accept-Encoding"}, []string{"Accept"}, "Origin, Accept-Encoding, Accept"},
		{"star wins", []string{"Origin"}, []string{"*"}, "*"},
		{"star stays", []string{"*"}, []string{"Accept"}, "*"},
		{"blank ignored", []string{" , Origin,"}, []string{"", " "}, "Origin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for _, l := range c.before {
				h.Add("Vary", l)
			}
			Add(h, c.add...)
			if got := h.Values("Vary"); len(got) != 1 || got[0] != c.want {
				t.Fatalf("Vary = %q, want %q", got, c.want)
			}
		})
	}
	h := http.Header{}
	Add(h)
	if _, ok := h["Vary"]; ok {
		t.Fatal("adding nothing to nothing set a Vary header")
	}
}
