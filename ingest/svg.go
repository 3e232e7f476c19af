package ingest

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/svgsafe"
)

// sanitizeSVG replaces the spooled SVG with its sanitised form (scripts,
// event handlers, external references and foreign objects removed) and
// returns the new spool and the header read from its root element.
func (s *Service) sanitizeSVG(sp *spooled) (*spooled, imgmgr.Header, error) {
	r, err := sp.Reader()
	if err != nil {
		return nil, imgmgr.Header{}, err
	}
	var out bytes.Buffer
	if _, err := svgsafe.Sanitize(r, &out, svgsafe.Options{}); err != nil {
		if imgmgr.KindOf(err) == imgmgr.KindInternal {
			return nil, imgmgr.Header{}, imgmgr.Errorf(imgmgr.KindUnprocessable, "undecodable", "the SVG could not be parsed")
		}
		return nil, imgmgr.Header{}, err
	}
	clean, err := spool(&out, s.cfg.TempDir, s.cfg.MemoryThreshold, s.cfg.MaxFileBytes)
	if err != nil {
		return nil, imgmgr.Header{}, err
	}
	w, h := svgSize(clean.head)
	return clean, imgmgr.Header{Format: "svg", Width: w, Height: h, Frames: 1, HasAlpha: true, Orientation: 1}, nil
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
		if w <= 0 || h <= 0 || w > 1e6 || h > 1e6 {
			return 300, 150
		}
		return int(w + 0.5), int(h + 0.5)
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
