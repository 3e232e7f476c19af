package svgsafe

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr"
)

const open = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">`

func sanitize(t *testing.T, in string) (string, Report) {
	t.Helper()
	var out bytes.Buffer
	rep, err := Sanitize(strings.NewReader(in), &out, Options{})
	if err != nil {
		t.Fatalf("Sanitize: %v\ninput: %s", err, in)
	}
	return out.String(), rep
}

func TestSanitize(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string // the output after the root's start tag, up to its end
	}{
		{"plain shapes stay", open + `<rect x="1" y="1" width="8" height="8" fill="red"/><circle cx="5" cy="5" r="2"/></svg>`,
			`<rect x="1" y="1" width="8" height="8" fill="red"></rect><circle cx="5" cy="5" r="2"></circle>`},
		{"script goes", open + `<script>alert(1)</script><g><script type="text/javascript"><![CDATA[alert(2)]]></script></g></svg>`,
			`<g></g>`},
		{"event handlers go", open + `<rect onclick="alert(1)" onload="x()" ONMOUSEOVER="y()" width="1"/></svg>`,
			`<rect width="1"></rect>`},
		{"foreignObject goes with its subtree", open + `<foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="alert(1)"/></body></foreignObject><g/></svg>`,
			`<g></g>`},
		{"external hrefs go, fragment hrefs stay", open + `<use href="#a"/><use xlink:href="#b"/><use href="http://evil/x.svg#a"/><image xlink:href="https://evil/x.png"/><a href="javascript:alert(1)"><text>t</text></a></svg>`,
			`<use href="#a"></use><use xlink:href="#b"></use><use></use><image></image><a><text>t</text></a>`},
		{"href only where it means a reference", open + `<rect href="#a"/></svg>`, `<rect></rect>`},
		{"url() outside the document goes, url(#) stays", open + `<rect fill="url(#g)" stroke="url(http://evil/p.svg#p)" filter="url( 'https://evil' )"/></svg>`,
			`<rect fill="url(#g)"></rect>`},
		{"style attribute cleaned", open + `<rect style="fill:url(http://evil/a);stroke:url(#g);opacity:.5"/></svg>`,
			`<rect style="fill:none;stroke:url(#g);opacity:.5"></rect>`},
		{"style attribute with escapes dropped", open + `<rect style="fill:u\72l(http://evil)"/></svg>`, `<rect></rect>`},
		{"style sheet cleaned", open + `<style>.a{fill:url("http://evil/x")} .b{fill:url(#g)}</style></svg>`,
			`<style>.a{fill:none} .b{fill:url(#g)}</style>`},
		{"style sheet with @import emptied", open + `<style>@import url(http://evil/x.css); rect{fill:red}</style></svg>`,
			`<style></style>`},
		{"style sheet with image-set emptied", open + `<style>rect{background:image-set("http://evil/x.png" 1x)}</style></svg>`,
			`<style></style>`},
		{"@media kept", open + `<style>@media (prefers-color-scheme: dark){rect{fill:#fff}}</style></svg>`,
			`<style>@media (prefers-color-scheme: dark){rect{fill:#fff}}</style>`},
		{"animation goes (set can rewrite href)", open + `<a><set attributeName="href" to="javascript:alert(1)"/><animate attributeName="href" values="javascript:alert(1)"/><text>x</text></a></svg>`,
			`<a><text>x</text></a>`},
		{"other namespaces go", open + `<g xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" inkscape:label="L"><inkscape:path/></g></svg>`,
			`<g></g>`},
		{"an inner default namespace change goes", open + `<g xmlns="http://evil/ns"><rect/></g><rect/></svg>`, `<rect></rect>`},
		{"xml:base goes, xml:space stays", open + `<text xml:base="http://evil/" xml:space="preserve">a  b</text></svg>`,
			`<text xml:space="preserve">a  b</text>`},
		{"comments and processing instructions go", `<?xml-stylesheet href="http://evil/x.css"?>` + open + `<!-- hi --><?php echo 1 ?><g/></svg>`,
			`<g></g>`},
		{"text is escaped", open + `<text>&lt;script&gt;alert(1)&lt;/script&gt; &amp; "q"</text><title><![CDATA[<b>]]></title></svg>`,
			`<text>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;q&#34;</text><title>&lt;b&gt;</title>`},
		{"attribute values are escaped", open + `<text font-family="a&quot;b&lt;c">x</text></svg>`,
			`<text font-family="a&#34;b&lt;c">x</text>`},
		{"plain SVG DOCTYPE is dropped", `<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">` + open + `<g/></svg>`,
			`<g></g>`},
		{"metadata goes", open + `<metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata></svg>`, ``},
		{"trailing content after the root is not copied", open + `<g/></svg><script>alert(1)</script>`, `<g></g>`},
		{"a repeated attribute keeps the first", open + `<rect width="1" width="2"/></svg>`, `<rect width="1"></rect>`},
		{"aria and role stay", open + `<g role="img" aria-label="logo"/></svg>`, `<g role="img" aria-label="logo"></g>`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := sanitize(t, tc.in)
			body := between(t, out)
			if body != tc.want {
				t.Errorf("got  %s\nwant %s", body, tc.want)
			}
			if reason := unsafeReason(out); reason != "" {
				t.Errorf("output unsafe: %s\n%s", reason, out)
			}
		})
	}
}

// between returns what lies inside the output's root element.
func between(t *testing.T, out string) string {
	t.Helper()
	const head = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"`
	if !strings.HasPrefix(out, head) || !strings.HasSuffix(out, "</svg>") {
		t.Fatalf("output does not start with the svg root: %s", out)
	}
	i := strings.IndexByte(out, '>')
	return out[i+1 : len(out)-len("</svg>")]
}

func TestSanitizeReport(t *testing.T) {
	_, rep := sanitize(t, open+`<script/><rect onclick="x" width="1"/><g><foreignObject><div/></foreignObject></g></svg>`)
	if rep.Elements != 3 || rep.RemovedElements != 2 || rep.RemovedAttributes != 1 || rep.Clean() {
		t.Errorf("report %+v, want 3 kept, 2 elements and 1 attribute removed", rep)
	}
	_, rep = sanitize(t, open+`<rect width="1"/></svg>`)
	if !rep.Clean() {
		t.Errorf("report %+v for a clean SVG", rep)
	}
}

func TestSanitizeRefuses(t *testing.T) {
	deep := open + strings.Repeat("<g>", 300) + strings.Repeat("</g>", 300) + "</svg>"
	many := open + strings.Repeat("<g/>", 200) + "</svg>"
	uses := open + strings.Repeat(`<use href="#a"/>`, 5) + "</svg>"
	cases := []struct {
		name string
		in   string
		opt  Options
		code string
	}{
		{"external entity (XXE)", `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + open + `<text>&xxe;</text></svg>`, Options{}, "svg_doctype"},
		{"billion laughs", `<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>` + open + `<text>&b;</text></svg>`, Options{}, "svg_doctype"},
		{"parameter entity", `<!DOCTYPE svg [<!ENTITY % p SYSTEM "http://evil/x.dtd"> %p;]>` + open + `</svg>`, Options{}, "svg_doctype"},
		{"undeclared entity", open + `<text>&nbsp;</text></svg>`, Options{}, "svg_invalid"},
		{"not SVG", `<html><body/></html>`, Options{}, "svg_invalid"},
		{"svg without the SVG namespace", `<svg><rect/></svg>`, Options{}, "svg_invalid"},
		{"not well-formed", open + `<g></svg>`, Options{}, "svg_invalid"},
		{"empty", ``, Options{}, "svg_invalid"},
		{"too deep", deep, Options{}, "svg_too_complex"},
		{"too many elements", many, Options{MaxElements: 100}, "svg_too_complex"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Sanitize(strings.NewReader(tc.in), io.Discard, tc.opt)
			if imgmgr.KindOf(err) != imgmgr.KindUnprocessable || imgmgr.CodeOf(err) != tc.code {
				t.Fatalf("err = %v, want 422 %s", err, tc.code)
			}
		})
	}
	out, rep := func() (string, Report) {
		var b bytes.Buffer
		rep, err := Sanitize(strings.NewReader(uses), &b, Options{MaxUses: 3})
		if err != nil {
			t.Fatal(err)
		}
		return b.String(), rep
	}()
	if strings.Count(out, "<use") != 3 || rep.RemovedElements != 2 {
		t.Errorf("MaxUses 3 kept %d <use> (report %+v)", strings.Count(out, "<use"), rep)
	}
}

// unsafeReason re-parses an output and names the first thing a browser
// could run or fetch: an element outside the allow-list, an on* attribute,
// an href that is not a fragment, a url() or script scheme leaving the
// document. It is an independent check of the policy, used by the fuzz
// target too.
func unsafeReason(out string) string {
	d := xml.NewDecoder(strings.NewReader(out))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return ""
		}
		if err != nil {
			return "output does not parse: " + err.Error()
		}
		switch t := tok.(type) {
		case xml.Directive, xml.ProcInst, xml.Comment:
			if _, ok := tok.(xml.ProcInst); ok && t.(xml.ProcInst).Target == "xml" {
				continue
			}
			return "directive, comment or processing instruction"
		case xml.StartElement:
			if t.Name.Space != nsSVG || !allowedElements[t.Name.Local] {
				return "element " + t.Name.Space + " " + t.Name.Local
			}
			for _, a := range t.Attr {
				v := strings.ToLower(a.Value)
				switch {
				case strings.HasPrefix(strings.ToLower(a.Name.Local), "on"):
					return "event handler " + a.Name.Local
				case a.Name.Local == "href" && !strings.HasPrefix(a.Value, "#"):
					return "href " + a.Value
				case strings.Contains(v, "javascript:"), strings.Contains(v, "@import"):
					return "script or import in " + a.Name.Local
				case strings.Contains(v, "url(") && !onlyFragmentURLs(v):
					return "url() leaving the document in " + a.Name.Local
				}
			}
		case xml.CharData:
			v := strings.ToLower(string(t))
			if strings.Contains(v, "url(") && !onlyFragmentURLs(v) || strings.Contains(v, "@import") {
				return "url() or @import in text"
			}
		}
	}
}

func onlyFragmentURLs(v string) bool {
	for {
		i := strings.Index(v, "url(")
		if i < 0 {
			return true
		}
		v = strings.TrimLeft(v[i+4:], " \t\r\n\"'")
		if !strings.HasPrefix(v, "#") {
			return false
		}
	}
}

func FuzzSanitize(f *testing.F) {
	f.Add(open + `<rect fill="url(#g)" onclick="x"/><script>alert(1)</script><style>.a{fill:url(http://x)}</style></svg>`)
	f.Add(`<!DOCTYPE svg>` + open + `<a xlink:href="#x"><text>t</text></a><use href="http://e"/></svg>`)
	f.Add(open + `<g style="stroke:url('#a')"><foreignObject/></g></svg>`)
	f.Fuzz(func(t *testing.T, in string) {
		var out bytes.Buffer
		if _, err := Sanitize(strings.NewReader(in), &out, Options{MaxElements: 2000}); err != nil {
			if k := imgmgr.KindOf(err); k != imgmgr.KindUnprocessable {
				t.Fatalf("error of kind %v: %v", k, err)
			}
			return
		}
		if reason := unsafeReason(out.String()); reason != "" {
			t.Fatalf("unsafe output (%s):\n%s", reason, out.String())
		}
		var again bytes.Buffer
		if _, err := Sanitize(bytes.NewReader(out.Bytes()), &again, Options{MaxElements: 2000}); err != nil {
			t.Fatalf("output does not sanitize again: %v\n%s", err, out.String())
		}
		if again.String() != out.String() {
			t.Fatalf("not a fixed point:\n%s\n%s", out.String(), again.String())
		}
	})
}
