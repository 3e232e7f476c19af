package variant

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/vips"
)

// The pipeline, in order. Each step is one file. libvips is lazy: the
// steps before encode only build the graph; encode computes the pixels.
var steps = []step{
	{"load", load},              // shrink-on-load, EXIF rotation, resize (step_load.go)
	{"crop", crop},              // gravity, focus point, smart crop (step_crop.go)
	{"colour", colour},          // ICC profile -> sRGB, 16-bit -> 8-bit (step_colour.go)
	{"flatten", flatten},        // alpha over a background for formats without alpha (step_flatten.go)
	{"metadata", stripMetadata}, // EXIF/XMP/IPTC out, copyright optionally back in (step_metadata.go)
	{"encode", encode},          // the saver with per-format options (step_encode.go)
}

type step struct {
	name string
	run  func(r *render) error
}

// Result is a rendered variant.
type Result struct {
	Bytes  []byte
	Format string
	Width  int
	Height int // one frame
	// Untouched means the render neither resized, cropped, rotated nor
	// flattened the original, and libvips found no metadata to strip in
	// it. libvips does not see every metadata block (PNG tIME, JPEG APPn,
	// GIF extensions, ...): before serving the original bytes instead, a
	// caller must also check them (privacy.CarriesMetadata).
	Untouched bool
}

// Request is one render.
type Request struct {
	Source  *vips.Source // consumed by the render
	Header  imgmgr.Header
	Options Options
	Format  string // resolved output format
}

// render is the state passed from step to step.
type render struct {
	ctx      context.Context
	cfg      *RenderConfig
	req      Request
	plan     Plan
	img      *vips.Image
	copyEXIF []byte // the EXIF block to write (copyright only), nil for none
	keepICC  bool
	stripped bool // metadata was found in the original and removed
	touched  bool // pixels changed beyond what the plan says (flatten, colour)
	out      []byte
}

func (r *render) replace(im *vips.Image, err error) error {
	if err != nil {
		return err
	}
	r.img.Close()
	r.img = im
	return nil
}

// Render runs the pipeline. ctx bounds the whole render; between steps and
// during encoding a finished ctx stops it, and Render returns ctx's error
// at once (see vips.Image.Save). Render consumes req.Source whatever
// happens: it is closed before Render returns.
func (c *RenderConfig) Render(ctx context.Context, req Request) (*Result, error) {
	// Every libvips call of this render runs on one OS thread, whose
	// per-thread libvips state is released at the end.
	defer vips.LockThread()()
	// The source is closed on every path; load closes it early (the image
	// it made holds its own reference). Returning before load used to leak
	// it, and with it an open file.
	defer req.Source.Close()
	if !c.validated {
		return nil, errors.New("variant: RenderConfig used before Validate")
	}
	animated := req.Header.Frames > 1 && (req.Format == "gif" || req.Format == "webp")
	if animated && req.Header.Frames > c.MaxFrames {
		return nil, imgmgr.Errorf(imgmgr.KindUnprocessable, "too_many_frames", "the animation has %d frames; the limit is %d", req.Header.Frames, c.MaxFrames)
	}
	plan, err := NewPlan(req.Header, req.Options, animated, c.MaxResultPixels)
	if err != nil {
		return nil, err
	}
	r := &render{ctx: ctx, cfg: c, req: req, plan: plan}
	defer func() { r.img.Close() }() // the last image, whichever it is by then
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		if err := s.run(r); err != nil {
			return nil, imgmgr.Wrap("variant."+s.name, err)
		}
		if c.Trace != nil {
			c.Trace(s.name, time.Since(start))
		}
	}
	return &Result{
		Bytes: r.out, Format: req.Format, Width: r.img.Width(), Height: r.img.PageHeight(),
		Untouched: !plan.Resized() && !plan.Rotate && !r.stripped && !r.touched,
	}, nil
}

// String describes the plan, for logs.
func (p Plan) String() string {
	return fmt.Sprintf("%dx%d -> %dx%d crop %dx%d rotate=%v animated=%v", p.SrcWidth, p.SrcHeight,
		p.ScaledWidth, p.ScaledHeight, p.CropWidth, p.CropHeight, p.Rotate, p.Animated)
}
