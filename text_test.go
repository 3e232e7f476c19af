package imgmgr

import "testing"

func TestCleanText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"photo.jpg", "photo.jpg"},
		{"photo\u202Egpj.exe", "photogpj.exe"}, // right-to-left override
		{"\u202Aa\u202Bb\u202Cc\u202Dd", "abcd"},
		{"\u2066x\u2067y\u2068z\u2069", "xyz"}, // isolates
		{"\u200Eleft\u200Fright", "leftright"},
		{"\uFEFFbom", "bom"},
		{"zero\u200Bwidth\u2060joiner\u00ADsoft", "zerowidthjoinersoft"},
		{"line\u2028para\u2029", "linepara"},
		{"tab\tnew\nline\x00\x7f\u0085", "tabnewline"},
		{"bad\xffutf8\uFFFD", "badutf8"},
		{"Été à Zürich 海 😀", "Été à Zürich 海 😀"},
	}
	for _, c := range cases {
		if got := CleanText(c.in); got != c.want {
			t.Errorf("CleanText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
