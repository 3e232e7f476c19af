package ingest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/svgsafe"
)

// sanitizeSVG replaces the spooled SVG with its sanitised form (scripts,
// event handlers, external references and foreign objects removed) and
// returns the new spool and the header read from its root element. The
// sanitiser streams into the new spool: memory stays that of one token,
// whatever the file's size (it was ~6x the file, built whole in memory).
// SVG has a byte limit of its own (MaxSVGBytes), and its declared size
// counts against the pixel limits like a raster image's.
func (s *Service) sanitizeSVG(sp *spooled) (*spooled, imgmgr.Header, error) {
	if sp.size > s.cfg.MaxSVGBytes {
		return nil, imgmgr.Header{}, imgmgr.Errorf(imgmgr.KindTooLarge, "svg_too_large",
			"the SVG is %d bytes; the limit for SVG is %d", sp.size, s.cfg.MaxSVGBytes)
	}
	r, err := sp.Reader()
	if err != nil {
		return nil, imgmgr.Header{}, err
	}
	pr, pw := io.Pipe()
	sanitized := make(chan error, 1)
	go func() {
		_, err := svgsafe.Sanitize(r, pw, svgsafe.Options{})
		pw.CloseWithError(err)
		sanitized <- err
	}()
	clean, err := spool(pr, s.cfg.TempDir, s.cfg.MemoryThreshold, s.cfg.MaxSVGBytes)
	pr.CloseWithError(errors.New("spool ended")) // unblocks the sanitiser if the spool stopped early
	if serr := <-sanitized; serr != nil {
		if clean != nil {
			clean.Close()
		}
		if imgmgr.KindOf(serr) == imgmgr.KindInternal {
			return nil, imgmgr.Header{}, imgmgr.Errorf(imgmgr.KindUnprocessable, "undecodable", "the SVG could not be parsed")
		}
		return nil, imgmgr.Header{}, serr
	}
	if err != nil {
		return nil, imgmgr.Header{}, err
	}
	w, h := svgSize(clean.head)
	hdr := imgmgr.Header{Format: "svg", Width: w, Height: h, Frames: 1, HasAlpha: true, Orientation: 1}
	if err := s.checkLimits(hdr); err != nil {
		clean.Close()
		return nil, imgmgr.Header{}, err
	}
	return clean, hdr, nil
}

// svgSize reads width and height (or the viewBox) of the root element; an
// SVG that gives neither has the 300×150 of an unsized replaced element.
func svgSize(head []byte) (int, int) {
	dec := xml.NewDecoder(bytes.NewReader(head))
	for {
		tok, err := dec.Token()
		if err != nil {
			return 300, 150
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		var w, h float64
		var vb []string
		for _, a := range el.Attr {
			switch a.Name.Local {
			case "width":
				w = length(a.Value)
			case "height":
				h = length(a.Value)
			case "viewBox":
				vb = strings.Fields(strings.ReplaceAll(a.Value, ",", " "))
			}
		}
		if (w <= 0 || h <= 0) && len(vb) == 4 {
			w, h = length(vb[2]), length(vb[3])
		}
		if w <= 0 || h <= 0 {
			return 300, 150
		}
		// Sizes past what an int holds are clamped, still far over any
		// pixel limit.
		return int(min(w, 1e9) + 0.5), int(min(h, 1e9) + 0.5)
	}
}

func length(v string) float64 {
	v = strings.TrimSuffix(strings.TrimSpace(v), "px")
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0
	}
	return f
}
