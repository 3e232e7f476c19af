package variant

import (
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr"
)

var testPresets = Presets{"thumb": {"rs:fill:320:320", "q:75"}, "small": {"w:200"}, "both": {"pr:thumb", "g:sm"}}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want func(o *Options)
	}{
		{"", func(o *Options) {}},
		{"rs:fill:800:600", func(o *Options) { o.ResizeType, o.Width, o.Height = Fill, 800, 600 }},
		{"resize:fill-down:800:600:1", func(o *Options) { o.ResizeType, o.Width, o.Height, o.Enlarge = FillDown, 800, 600, true }},
		{"rs:force:10:20:t:0", func(o *Options) { o.ResizeType, o.Width, o.Height, o.Enlarge = Force, 10, 20, true }},
		{"s:800::1", func(o *Options) { o.Width, o.Enlarge = 800, true }},
		{"w:800/h:600/rt:auto", func(o *Options) { o.Width, o.Height, o.ResizeType = 800, 600, Auto }},
		{"mw:100/min-height:50", func(o *Options) { o.MinWidth, o.MinHeight = 100, 50 }},
		{"g:sowe", func(o *Options) { o.Gravity.Type = "sowe" }},
		{"g:sm", func(o *Options) { o.Gravity.Type = GravitySmart }},
		{"g:fp:0.25:1", func(o *Options) { o.Gravity = Gravity{Type: GravityFocus, X: 0.25, Y: 1} }},
		{"dpr:2", func(o *Options) { o.DPR = 2 }},
		{"dpr:1.504", func(o *Options) { o.DPR = 1.5 }},
		{"q:80/f:jpg", func(o *Options) { o.Quality, o.Format = 80, "jpeg" }},
		{"format:avif", func(o *Options) { o.Format = "avif" }},
		{"exp:1767225600", func(o *Options) { o.Expires = 1767225600 }},
		{"kcr:0/scp:0/ar:false", func(o *Options) { o.KeepCopyright, o.KeepProfile, o.AutoRotate = false, true, false }},
		{"pr:thumb", func(o *Options) {
			o.ResizeType, o.Width, o.Height, o.Quality, o.Presets = Fill, 320, 320, 75, []string{"thumb"}
		}},
		{"pr:thumb/q:90", func(o *Options) {
			o.ResizeType, o.Width, o.Height, o.Quality, o.Presets = Fill, 320, 320, 90, []string{"thumb"}
		}},
		{"pr:both", func(o *Options) {
			o.ResizeType, o.Width, o.Height, o.Quality, o.Gravity.Type, o.Presets = Fill, 320, 320, 75, GravitySmart, []string{"thumb", "both"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseString(tt.in, testPresets)
			if err != nil {
				t.Fatal(err)
			}
			want := Defaults()
			tt.want(&want)
			if got.Canonical() != want.Canonical() || got.Format != want.Format || got.Expires != want.Expires ||
				strings.Join(got.Presets, ",") != strings.Join(want.Presets, ",") {
				t.Errorf("ParseString(%q) = %+v, want %+v", tt.in, got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, names string }{
		{"bogus:1", "bogus"},
		{"rs:squash:1:1", "rs"},
		{"w:-1", "w"},
		{"w:99999", "w"},
		{"h:abc", "h"},
		{"q:101", "q"},
		{"dpr:0", "dpr"},
		{"dpr:NaN", "dpr"},
		{"g:up", "g"},
		{"g:fp:2:0", "g"},
		{"g:ce:10:0", "g"},
		{"f:bmp", "f"},
		{"pr:nope", "pr"},
		{"pr", "pr"},
		{"exp:soon", "exp"},
		{"el:maybe", "el"},
		{"rs:fit:1:1:0:1", "rs"},
		{"rs", "rs"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseString(tt.in, testPresets)
			if imgmgr.KindOf(err) != imgmgr.KindInvalid || imgmgr.CodeOf(err) != "invalid_option" {
				t.Fatalf("ParseString(%q) = %v, want invalid_option", tt.in, err)
			}
			if !strings.Contains(err.Error(), `"`+tt.names+`"`) {
				t.Errorf("error %q does not name option %q", err, tt.names)
			}
		})
	}
}

// The same request written in another order, with other spellings, maps
// to the same canonical form (and so to the same cache entry).
func TestCanonicalOrderFree(t *testing.T) {
	groups := [][]string{
		{"rs:fill:800:600/q:80/g:no", "g:no/q:80/rs:fill:800:600", "width:800/height:600/rt:fill/gravity:no/quality:80", "s:800:600/rt:fill/q:80/g:no/dpr:1"},
		{"pr:thumb", "rs:fill:320:320/q:75", "q:75/rs:fill:320:320:0"},
		{"w:300/dpr:2", "dpr:2.0/w:300", "w:300/dpr:2/exp:99999999999"},
	}
	for _, g := range groups {
		first, err := ParseString(g[0], testPresets)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range g[1:] {
			o, err := ParseString(in, testPresets)
			if err != nil {
				t.Fatal(err)
			}
			if o.Canonical() != first.Canonical() {
				t.Errorf("%q -> %q, but %q -> %q", in, o.Canonical(), g[0], first.Canonical())
			}
		}
	}
	a, _ := ParseString("w:300", nil)
	b, _ := ParseString("w:301", nil)
	if a.Canonical() == b.Canonical() {
		t.Error("different widths share a canonical form")
	}
}

func TestParsePresets(t *testing.T) {
	if _, err := ParsePresets(map[string]string{"a": "rs:fill:10:10", "b": "pr:a/q:50"}); err != nil {
		t.Errorf("good presets refused: %v", err)
	}
	if _, err := ParsePresets(map[string]string{"a": "rs:blah"}); err == nil {
		t.Error("bad preset accepted")
	}
	if _, err := ParsePresets(map[string]string{"a": "pr:b", "b": "pr:a"}); err == nil {
		t.Error("preset loop accepted")
	}
}

// FuzzParse: parsing never panics, and the canonical form of whatever
// parses parses again to the same canonical form.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"rs:fill:800:600/q:80", "g:fp:0.5:0.5/dpr:2", "pr:thumb/w:10", "s::1:1", "exp:1/f:webp", "rs:auto:0:0:t:f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseString(s, testPresets)
		if err != nil {
			if imgmgr.KindOf(err) != imgmgr.KindInvalid {
				t.Fatalf("ParseString(%q): error of kind %s", s, imgmgr.KindOf(err))
			}
			return
		}
		c := o.Canonical()
		o2, err := ParseString(c, nil)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", c, s, err)
		}
		if o2.Canonical() != c {
			t.Fatalf("canonical form not stable: %q -> %q", c, o2.Canonical())
		}
	})
}
