// Package variant turns a stored original into a rendered variant: the
// option grammar of variant URLs (imgproxy's, with a canonical form for
// cache keys), URL signing, presets, format and quality negotiation, and
// the processing pipeline over libvips as a list of named steps.
package variant

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/imgmgr/imgmgr"
)

// Resize types.
const (
	Fit      = "fit"
	Fill     = "fill"
	FillDown = "fill-down"
	Force    = "force"
	Auto     = "auto"
)

// Gravity types: the compass points, centre, smart (libvips attention) and
// focus point.
const (
	GravityCentre = "ce"
	GravitySmart  = "sm"
	GravityFocus  = "fp"
)

var compass = map[string]bool{"no": true, "so": true, "ea": true, "we": true, "noea": true, "nowe": true, "soea": true, "sowe": true, GravityCentre: true}

// Gravity says where a crop is anchored. X and Y are the focus point
// (0..1) when Type is GravityFocus.
type Gravity struct {
	Type string
	X, Y float64
}

// Options are the processing options of one variant request, after presets
// are expanded. The zero value is not valid: start from Defaults().
type Options struct {
	ResizeType    string
	Width         int // 0 = free
	Height        int // 0 = free
	MinWidth      int
	MinHeight     int
	Enlarge       bool
	Gravity       Gravity
	DPR           float64 // 1..MaxDPR
	Quality       int     // 0 = the format's default
	Format        string  // "" = negotiated; jpeg, png, webp, avif, jxl, gif
	AutoRotate    bool
	KeepCopyright bool  // keep EXIF Copyright and Artist
	KeepProfile   bool  // keep the ICC profile instead of converting to sRGB (scp:0)
	Expires       int64 // unix seconds; 0 = never
	Presets       []string
}

// Limits of the grammar.
const (
	MaxDimension = 16384
	MaxDPR       = 8
)

// Defaults are the options before any URL option applies.
func Defaults() Options {
	return Options{ResizeType: Fit, Gravity: Gravity{Type: GravityCentre}, DPR: 1, AutoRotate: true, KeepCopyright: true}
}

// Canonical is the options as one string in a fixed order, without the
// format and expiry (the cache key adds the resolved format; expiry does
// not change pixels). Two requests that render the same pixels have the
// same canonical form.
func (o Options) Canonical() string {
	g := o.Gravity.Type
	if g == GravityFocus {
		g += ":" + ftoa(o.Gravity.X) + ":" + ftoa(o.Gravity.Y)
	}
	return fmt.Sprintf("rs:%s:%d:%d:%s/mw:%d/mh:%d/g:%s/dpr:%s/q:%d/ar:%s/kcr:%s/scp:%s",
		o.ResizeType, o.Width, o.Height, btoa(o.Enlarge), o.MinWidth, o.MinHeight, g,
		ftoa(o.DPR), o.Quality, btoa(o.AutoRotate), btoa(o.KeepCopyright), btoa(!o.KeepProfile))
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func btoa(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// badOption is the 400 for an unknown option or a bad argument, naming it.
func badOption(option, format string, args ...any) error {
	return &imgmgr.Error{Kind: imgmgr.KindInvalid, Code: "invalid_option",
		Message: fmt.Sprintf("option %q: %s", option, fmt.Sprintf(format, args...))}
}

func parseInt(opt, s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badOption(opt, "want an integer from %d to %d, got %q", lo, hi, s)
	}
	return n, nil
}

func parseBool(opt, s string) (bool, error) {
	switch s {
	case "1", "t", "true":
		return true, nil
	case "0", "f", "false", "":
		return false, nil
	}
	return false, badOption(opt, "want 1/0, t/f or true/false, got %q", s)
}

func parseFloat(opt, s string, lo, hi float64) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < lo || f > hi {
		return 0, badOption(opt, "want a number from %g to %g, got %q", lo, hi, s)
	}
	return f, nil
}

// formatNames maps URL spellings to format names.
var formatNames = map[string]string{"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp", "avif": "avif", "jxl": "jxl", "gif": "gif"}

// ParseFormat maps an extension or f: argument to a format name.
func ParseFormat(s string) (string, error) {
	if f, ok := formatNames[strings.ToLower(s)]; ok {
		return f, nil
	}
	return "", badOption("format", "unsupported output format %q", s)
}

// Extension is the usual file extension of a format.
func Extension(format string) string {
	if format == "jpeg" {
		return "jpg"
	}
	return format
}

func splitArgs(seg string) (string, []string) {
	parts := strings.Split(seg, ":")
	return parts[0], parts[1:]
}

func wantArgs(name string, args []string, lo, hi int) error {
	if len(args) < lo || len(args) > hi {
		return badOption(name, "takes %d to %d arguments, got %d", lo, hi, len(args))
	}
	return nil
}
