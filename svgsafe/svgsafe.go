// Package svgsafe turns an uploaded SVG into one a browser can render
// without running anything or fetching anything: it parses with
// encoding/xml, keeps allow-listed elements and attributes, drops script,
// foreignObject, animation, event handlers (on*), references that leave
// the document (href/xlink:href not starting with '#', url(...) in
// attributes and style pointing outside), comments and processing
// instructions, and refuses DOCTYPEs with an internal subset (entity
// declarations: no XXE, no entity expansion); a bare DOCTYPE naming the
// SVG DTD is dropped. The output is written fresh from the
// parsed tree, never copied from the input.
//
// Serve the result with Content-Type image/svg+xml, X-Content-Type-Options:
// nosniff and Content-Security-Policy: default-src 'none'; style-src
// 'unsafe-inline'; sandbox.
package svgsafe

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/imgmgr/imgmgr"
)

const (
	nsSVG   = "http://www.w3.org/2000/svg"
	nsXLink = "http://www.w3.org/1999/xlink"
	nsXML   = "http://www.w3.org/XML/1998/namespace"
)

// Options bound the work. Zero fields take the defaults.
type Options struct {
	MaxDepth    int // element nesting; default 256
	MaxElements int // elements read; default 100 000
	MaxUses     int // <use> elements kept (each can clone a subtree); default 1000
}

func (o *Options) setDefaults() {
	if o.MaxDepth == 0 {
		o.MaxDepth = 256
	}
	if o.MaxElements == 0 {
		o.MaxElements = 100_000
	}
	if o.MaxUses == 0 {
		o.MaxUses = 1000
	}
}

// Report says what Sanitize removed.
type Report struct {
	Elements          int // elements kept
	RemovedElements   int // elements dropped, with their subtrees counted once
	RemovedAttributes int
}

// Clean reports whether nothing was removed.
func (r Report) Clean() bool { return r.RemovedElements == 0 && r.RemovedAttributes == 0 }

// Errors a client can cause; all are KindUnprocessable.
var (
	ErrDoctype = imgmgr.Errorf(imgmgr.KindUnprocessable, "svg_doctype",
		"SVG with a DOCTYPE or entity declarations is not accepted")
	ErrInvalid = imgmgr.Errorf(imgmgr.KindUnprocessable, "svg_invalid",
		"the SVG is not well-formed or has no <svg> root in the SVG namespace")
	ErrTooComplex = imgmgr.Errorf(imgmgr.KindUnprocessable, "svg_too_complex",
		"the SVG is nested too deeply or has too many elements")
)

// Sanitize reads an SVG document from r and writes a safe one to w. On
// error nothing useful has been written; callers spool w.
func Sanitize(r io.Reader, w io.Writer, opt Options) (Report, error) {
	opt.setDefaults()
	s := &sanitizer{opt: opt, dec: xml.NewDecoder(r), out: bufio.NewWriter(w)}
	s.dec.Strict = true
	s.dec.Entity = nil // only the five predefined entities
	if err := s.run(); err != nil {
		return s.rep, err
	}
	return s.rep, s.out.Flush()
}

type sanitizer struct {
	opt  Options
	dec  *xml.Decoder
	out  *bufio.Writer
	rep  Report
	uses int
	// stack of open elements: true when kept
	stack []bool
	// inStyle counts open <style> elements being kept; their text is CSS
	inStyle bool
	style   strings.Builder
	seen    int
}

func (s *sanitizer) run() error {
	for {
		tok, err := s.dec.Token()
		if err == io.EOF {
			if len(s.stack) != 0 || s.rep.Elements == 0 {
				return ErrInvalid
			}
			return nil
		}
		if err != nil {
			return wrap(ErrInvalid, err)
		}
		done, err := s.token(tok)
		if err != nil || done {
			return err
		}
	}
}

func wrap(e *imgmgr.Error, err error) error {
	c := *e
	c.Err = err
	return &c
}

// token handles one token; done is true once the root element closed.
func (s *sanitizer) token(tok xml.Token) (bool, error) {
	switch t := tok.(type) {
	case xml.Directive:
		if !plainDoctype(string(t)) || len(s.stack) > 0 {
			return false, ErrDoctype
		}
	case xml.StartElement:
		return false, s.start(t)
	case xml.EndElement:
		return s.end(t)
	case xml.CharData:
		s.text(t)
	}
	return false, nil // comments and processing instructions are dropped
}

// plainDoctype reports a DOCTYPE naming an external DTD and nothing else
// (as Inkscape and old Illustrator exports carry): it is dropped, and
// encoding/xml never fetches the DTD. Internal subsets ("[...]", where
// ENTITY declarations live) are refused.
func plainDoctype(d string) bool {
	return strings.HasPrefix(d, "DOCTYPE") && !strings.ContainsAny(d, "[]<>%&") && !strings.Contains(strings.ToUpper(d), "ENTITY")
}

// keeping reports whether the current parent is kept.
func (s *sanitizer) keeping() bool { return len(s.stack) == 0 || s.stack[len(s.stack)-1] }

func (s *sanitizer) start(t xml.StartElement) error {
	s.seen++
	if len(s.stack) >= s.opt.MaxDepth || s.seen > s.opt.MaxElements {
		return ErrTooComplex
	}
	root := len(s.stack) == 0
	if root && (t.Name.Space != nsSVG || t.Name.Local != "svg") {
		return ErrInvalid
	}
	keep := s.keeping() && t.Name.Space == nsSVG && allowedElements[t.Name.Local] && !s.inStyle
	if keep && t.Name.Local == "use" {
		s.uses++
		keep = s.uses <= s.opt.MaxUses
	}
	if !keep && s.keeping() {
		s.rep.RemovedElements++
	}
	s.stack = append(s.stack, keep)
	if !keep {
		return nil
	}
	s.rep.Elements++
	if t.Name.Local == "style" {
		s.inStyle = true
		s.style.Reset()
	}
	return s.writeStart(t, root)
}

func (s *sanitizer) end(t xml.EndElement) (bool, error) {
	keep := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	if keep {
		if t.Name.Local == "style" && s.inStyle {
			s.inStyle = false
			if css := cleanCSS(s.style.String()); css != "" || s.style.Len() == 0 {
				s.writeText(css)
			} else {
				s.rep.RemovedAttributes++ // a sheet emptied counts as one removal
			}
		}
		fmt.Fprintf(s.out, "</%s>", t.Name.Local)
	}
	return len(s.stack) == 0, nil
}

func (s *sanitizer) text(t xml.CharData) {
	switch {
	case !s.keeping():
	case s.inStyle:
		s.style.Write(t)
	default:
		s.writeText(string(t))
	}
}

// writeStart writes a kept element with its allowed attributes.
func (s *sanitizer) writeStart(t xml.StartElement, root bool) error {
	s.out.WriteString("<" + t.Name.Local)
	if root {
		s.out.WriteString(` xmlns="` + nsSVG + `" xmlns:xlink="` + nsXLink + `"`)
	}
	written := map[string]bool{}
	for _, a := range t.Attr {
		name, value, ok := s.attr(t.Name.Local, a)
		ok = ok && !written[name] // a repeated attribute: the first wins
		written[name] = written[name] || ok
		if !ok {
			if a.Name.Space != "xmlns" && !(a.Name.Space == "" && a.Name.Local == "xmlns") {
				s.rep.RemovedAttributes++
			}
			continue
		}
		s.out.WriteString(" " + name + `="`)
		xml.EscapeText(s.out, []byte(value))
		s.out.WriteByte('"')
	}
	s.out.WriteByte('>')
	return nil
}

// attr decides one attribute: its output name and value, or !ok.
func (s *sanitizer) attr(elem string, a xml.Attr) (string, string, bool) {
	v := a.Value
	switch {
	case a.Name.Space == nsXML && (a.Name.Local == "space" || a.Name.Local == "lang"):
		return "xml:" + a.Name.Local, v, true
	case a.Name.Local == "href" && (a.Name.Space == "" || a.Name.Space == nsXLink):
		ref := strings.TrimSpace(v)
		if !hrefElements[elem] || !strings.HasPrefix(ref, "#") || !safeValue(ref) {
			return "", "", false
		}
		if a.Name.Space == nsXLink {
			return "xlink:href", ref, true
		}
		return "href", ref, true
	case a.Name.Space != "":
		return "", "", false
	case a.Name.Local == "style":
		css := cleanCSS(v)
		return "style", css, css != ""
	case strings.HasPrefix(a.Name.Local, "aria-"), allowedAttrs[a.Name.Local]:
		return a.Name.Local, v, safeValue(v)
	}
	return "", "", false
}

// writeText writes escaped character data.
func (s *sanitizer) writeText(text string) {
	xml.EscapeText(s.out, []byte(text))
}
