package delivery

import (
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr/variant"
)

func TestConfigValidate(t *testing.T) {
	key := []variant.Key{{Key: "aa", Salt: "bb"}}
	tests := []struct {
		name string
		cfg  Config
		want string // "" = valid; else a substring naming the key
	}{
		{"defaults", Config{Keys: key}, ""},
		{"no keys", Config{}, "delivery.keys"},
		{"bad preset", Config{Keys: key, Presets: map[string]string{"x": "rs:nope"}}, "delivery.presets"},
		{"unknown eager preset", Config{Keys: key, EagerPresets: []string{"thumb"}}, `preset "thumb"`},
		{"unknown default preset", Config{Keys: key, DefaultPreset: "card"}, `preset "card"`},
		{"bad format order", Config{Keys: key, FormatOrder: []string{"bmp"}}, "delivery.format_order"},
		{"negative queue", Config{Keys: key, RenderQueue: -1}, "delivery.render_queue"},
		{"bad quality", Config{Keys: key, Render: variant.RenderConfig{Quality: map[string]int{"jpeg": 0}}}, "quality"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.want)
			}
			if tt.want == "" && (c.RenderConcurrency < 1 || c.RenderQueue != 64 || c.CacheMaxBytes != 10<<30 || c.PathPrefix != "/img/") {
				t.Errorf("defaults not filled: %+v", c)
			}
		})
	}
}
