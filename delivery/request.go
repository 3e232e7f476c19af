package delivery

import (
	"strings"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/variant"
)

// request is a parsed variant URL.
type request struct {
	unsigned bool
	opts     variant.Options
	imageID  string
	format   string // from the extension or f:; "" = negotiate
}

// parseRequest verifies and parses the path after the prefix:
// {signature}/{options...}/{id}[.ext]. The signature covers "/" + the
// rest, as in imgproxy.
func (s *Service) parseRequest(escapedPath string) (*request, error) {
	rest, ok := strings.CutPrefix(escapedPath, s.cfg.PathPrefix)
	if !ok {
		return nil, imgmgr.ErrNotFound("variant")
	}
	sig, signed, ok := strings.Cut(rest, "/")
	if !ok || signed == "" {
		return nil, imgmgr.ErrNotFound("variant")
	}
	segs := strings.Split(signed, "/")
	last, opts := segs[len(segs)-1], segs[:len(segs)-1]
	req := &request{unsigned: sig == "_"}
	if req.unsigned {
		if err := s.checkUnsigned(opts); err != nil {
			return nil, err
		}
	} else if err := s.signer.Verify(sig, "/"+signed); err != nil {
		return nil, err
	}
	if s.cfg.DefaultPreset != "" {
		opts = append([]string{"pr:" + s.cfg.DefaultPreset}, opts...)
	}
	o, err := variant.Parse(opts, s.presets)
	if err != nil {
		return nil, err
	}
	req.opts, req.format = o, o.Format
	id, ext, hasExt := strings.Cut(last, ".")
	if hasExt {
		if req.format, err = variant.ParseFormat(ext); err != nil {
			return nil, err
		}
	}
	if id == "" {
		return nil, imgmgr.ErrNotFound("image")
	}
	req.imageID = id
	if o.Expires != 0 && s.now().Unix() > o.Expires {
		return nil, imgmgr.Errorf(imgmgr.KindGone, "expired", "this URL has expired")
	}
	return req, nil
}

// checkUnsigned allows /img/_/pr:NAME/{id} when unsigned presets are on:
// presets only, nothing else.
func (s *Service) checkUnsigned(opts []string) error {
	if !s.cfg.AllowUnsignedPresets {
		return imgmgr.Errorf(imgmgr.KindPermission, "invalid_signature", "the URL signature is not valid")
	}
	if len(opts) == 0 {
		return imgmgr.Errorf(imgmgr.KindPermission, "invalid_signature", "unsigned URLs may only name presets")
	}
	for _, o := range opts {
		if !strings.HasPrefix(o, "pr:") && !strings.HasPrefix(o, "preset:") {
			return imgmgr.Errorf(imgmgr.KindPermission, "invalid_signature", "unsigned URLs may only name presets")
		}
	}
	return nil
}

// authorize applies visibility: unsigned preset URLs reach public images
// only; a private image needs a signed URL that expires.
func authorize(req *request, im *imgmgr.Image) error {
	if im.Visibility == imgmgr.Public {
		return nil
	}
	if req.unsigned {
		return imgmgr.ErrNotFound("image")
	}
	if req.opts.Expires == 0 {
		return imgmgr.Errorf(imgmgr.KindPermission, "expiry_required", "URLs of private images must expire")
	}
	return nil
}
