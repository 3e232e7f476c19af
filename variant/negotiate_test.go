package variant

import "testing"

func TestNegotiate(t *testing.T) {
	chrome := "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
	tests := []struct {
		accept          string
		order           []string
		alpha, animated bool
		want            string
	}{
		{chrome, nil, false, false, "avif"},
		{"image/webp,*/*", nil, false, false, "webp"},
		{"image/avif;q=0,image/webp", nil, false, false, "webp"},
		{"*/*", nil, false, false, "jpeg"},
		{"", nil, true, false, "png"},
		{chrome, []string{"webp", "avif"}, false, false, "webp"},
		{chrome, []string{"jxl"}, false, false, "jpeg"},
		{"image/jxl,image/avif", []string{"jxl", "avif"}, false, false, "jxl"},
		{chrome, nil, true, true, "webp"},
		{"*/*", nil, true, true, "gif"},
	}
	for _, tt := range tests {
		if got := Negotiate(tt.accept, tt.order, tt.alpha, tt.animated); got != tt.want {
			t.Errorf("Negotiate(%q, %v, alpha=%v, animated=%v) = %s, want %s", tt.accept, tt.order, tt.alpha, tt.animated, got, tt.want)
		}
	}
}
