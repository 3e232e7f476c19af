package privacy

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// TestStripMultiImageJPEG: every image of a multi-image file (MPF/MPO:
// gain maps, stereo pairs) is stripped, and trailing bytes that are not
// an image stay.
func TestStripMultiImageJPEG(t *testing.T) {
	one := testenv.ReadImage(t, "metadata/GPS.jpg")
	in := append(append(append([]byte{}, one...), one...), "trailer"...)
	out := strip(t, "jpeg", in)
	if len(out) != len(in) || !bytes.HasSuffix(out, []byte("trailer")) {
		t.Fatalf("length %d -> %d; trailer kept: %v", len(in), len(out), bytes.HasSuffix(out, []byte("trailer")))
	}
	c := collect(t, "jpeg", out)
	if len(c.exifs) != 2 {
		t.Fatalf("found %d EXIF blocks, want 2", len(c.exifs))
	}
	for i, e := range c.exifs {
		if hasGPS(e) {
			t.Errorf("image %d keeps its GPS IFD", i+1)
		}
	}
	for _, half := range [][]byte{out[:len(one)], out[len(one) : 2*len(one)]} {
		samePixels(t, "jpeg", one, half)
	}
}

// tiffBuilder writes small TIFF structures for the EXIF tests.
type tiffBuilder struct {
	ord binary.ByteOrder
	b   []byte
}

func newTIFF(ord binary.ByteOrder) *tiffBuilder {
	tb := &tiffBuilder{ord: ord, b: make([]byte, 8)}
	if ord == binary.LittleEndian {
		copy(tb.b, "II*\x00")
	} else {
		copy(tb.b, "MM\x00*")
	}
	return tb
}

type tEntry struct {
	tag, typ uint16
	count    uint32
	value    []byte // inline when <= 4 bytes, else stored after the IFD
}

// ifd appends an IFD and returns its offset; next is the next-IFD offset.
func (tb *tiffBuilder) ifd(es []tEntry, next uint32) uint32 {
	off := uint32(len(tb.b))
	dataAt := off + 2 + 12*uint32(len(es)) + 4
	ifd := make([]byte, dataAt-off)
	tb.ord.PutUint16(ifd, uint16(len(es)))
	var data []byte
	for i, e := range es {
		p := ifd[2+12*i:]
		tb.ord.PutUint16(p, e.tag)
		tb.ord.PutUint16(p[2:], e.typ)
		tb.ord.PutUint32(p[4:], e.count)
		if len(e.value) <= 4 {
			copy(p[8:], e.value)
		} else {
			tb.ord.PutUint32(p[8:], dataAt+uint32(len(data)))
			data = append(data, e.value...)
		}
	}
	tb.ord.PutUint32(ifd[len(ifd)-4:], next)
	tb.b = append(append(tb.b, ifd...), data...)
	return off
}

func (tb *tiffBuilder) u32(v uint32) []byte { b := make([]byte, 4); tb.ord.PutUint32(b, v); return b }
func (tb *tiffBuilder) rat(n, d uint32) []byte {
	return append(tb.u32(n), tb.u32(d)...)
}

// gpsTIFF builds IFD0 (Make, GPS pointer, Model), a GPS IFD with a secret
// latitude, and optionally an IFD1 that also points to a GPS IFD.
func gpsTIFF(ord binary.ByteOrder, gpsInIFD1 bool) []byte {
	tb := newTIFF(ord)
	secret := append(append(tb.rat(12, 1), tb.rat(34, 1)...), tb.rat(5678, 100)...)
	gps := tb.ifd([]tEntry{{1, 2, 2, []byte("N\x00")}, {2, 5, 3, secret}}, 0)
	ifd1 := uint32(0)
	if gpsInIFD1 {
		gps2 := tb.ifd([]tEntry{{2, 5, 3, secret}}, 0)
		ifd1 = tb.ifd([]tEntry{{0x0100, 4, 1, tb.u32(1)}, {tagGPSIFD, 4, 1, tb.u32(gps2)}}, 0)
	}
	ifd0 := tb.ifd([]tEntry{
		{tagMake, 2, 6, []byte("Maker\x00")},
		{tagGPSIFD, 4, 1, tb.u32(gps)},
		{tagModel, 2, 8, []byte("Model-X\x00")},
	}, ifd1)
	tb.ord.PutUint32(tb.b[4:], ifd0)
	return tb.b
}

func TestStripTIFFGPS(t *testing.T) {
	for _, ord := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, inIFD1 := range []bool{false, true} {
			b := gpsTIFF(ord, inIFD1)
			n := len(b)
			changed, err := stripTIFFGPS(b)
			if err != nil || !changed || len(b) != n {
				t.Fatalf("%v ifd1=%v: changed=%v err=%v len %d->%d", ord, inIFD1, changed, err, n, len(b))
			}
			if hasGPS(b) {
				t.Errorf("%v ifd1=%v: GPS pointer left", ord, inIFD1)
			}
			tf, _ := parseTIFF(b)
			es, _, _ := tf.entries(tf.ifd0())
			if tf.ascii(es, tagMake) != "Maker" || tf.ascii(es, tagModel) != "Model-X" || len(es) != 2 {
				t.Errorf("%v ifd1=%v: IFD0 after removal: %d entries, make %q model %q", ord, inIFD1, len(es), tf.ascii(es, tagMake), tf.ascii(es, tagModel))
			}
			secret := newTIFF(ord).rat(5678, 100)
			if bytes.Contains(b, secret) {
				t.Errorf("%v ifd1=%v: the coordinates' bytes are still in the block", ord, inIFD1)
			}
		}
	}
}

func TestStripTIFFMalformed(t *testing.T) {
	loop := newTIFF(binary.LittleEndian)
	off := loop.ifd([]tEntry{{tagMake, 2, 2, []byte("A\x00")}}, 8) // next IFD is itself
	loop.ord.PutUint32(loop.b[4:], off)
	cases := map[string][]byte{
		"too short":          []byte("II*\x00"),
		"bad byte order":     []byte("XX*\x00\x08\x00\x00\x00"),
		"IFD0 out of bounds": []byte("II*\x00\xff\x00\x00\x00"),
		"entries overrun":    []byte("II*\x00\x08\x00\x00\x00\xff\x00"),
	}
	for name, b := range cases {
		if _, err := stripTIFFGPS(bytes.Clone(b)); err == nil {
			t.Errorf("%s: no error", name)
		}
		s := &stripper{}
		c := bytes.Clone(b)
		s.exif(c)
		if !allZero(c) {
			t.Errorf("%s: the stripper left an unparsable block unzeroed", name)
		}
	}
	if changed, err := stripTIFFGPS(loop.b); err != nil || changed {
		t.Errorf("an IFD chain looping to itself: changed=%v err=%v; want it walked once", changed, err)
	}
}

func TestBlankXMPLocation(t *testing.T) {
	const head = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">`
	const tail = `</rdf:RDF></x:xmpmeta>`
	cases := []struct {
		name, xmp string
		gone      []string
		kept      []string
	}{
		{"elements",
			`<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"><exif:GPSLatitude>52,31.2N</exif:GPSLatitude><dc:title>T</dc:title><exif:GPSLongitude>13,24.3E</exif:GPSLongitude></rdf:Description>`,
			[]string{"52,31.2N", "13,24.3E", "GPSLatitude"}, []string{"<dc:title>T</dc:title>"}},
		{"attributes, other prefix",
			`<rdf:Description xmlns:e="http://ns.adobe.com/exif/1.0/" xmlns:ps="http://ns.adobe.com/photoshop/1.0/" e:GPSLatitude='52,31.2N' ps:City="Berlin" ps:Credit="me" e:ExposureTime="1/250"/>`,
			[]string{"52,31.2N", "Berlin"}, []string{`ps:Credit="me"`, `e:ExposureTime="1/250"`}},
		{"IPTC structures go whole",
			`<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"><Iptc4xmpExt:LocationShown><rdf:Bag><rdf:li rdf:parseType="Resource"><Iptc4xmpExt:City>Paris</Iptc4xmpExt:City></rdf:li></rdf:Bag></Iptc4xmpExt:LocationShown><Iptc4xmpCore:Location>Louvre</Iptc4xmpCore:Location><Iptc4xmpCore:CreatorContactInfo rdf:parseType="Resource"/></rdf:Description>`,
			[]string{"Paris", "Louvre", "LocationShown"}, []string{"CreatorContactInfo"}},
		{"DJI drone fields",
			`<rdf:Description xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" drone-dji:GpsLatitude="22.5" drone-dji:GpsLongtitude="113.9" drone-dji:AbsoluteAltitude="+95.2" drone-dji:FlightRollDegree="+0.1"/>`,
			[]string{"22.5", "113.9", "95.2"}, []string{`drone-dji:FlightRollDegree="+0.1"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(head + tc.xmp + tail)
			n := len(b)
			if !blankXMPLocation(b) {
				t.Fatal("reported no change")
			}
			if len(b) != n {
				t.Fatalf("length %d -> %d", n, len(b))
			}
			if _, err := xmpLocationRanges(b); err != nil {
				t.Fatalf("no longer well-formed: %v\n%s", err, b)
			}
			for _, g := range tc.gone {
				if bytes.Contains(b, []byte(g)) {
					t.Errorf("%q still there: %s", g, b)
				}
			}
			for _, k := range tc.kept {
				if !bytes.Contains(b, []byte(k)) {
					t.Errorf("%q lost: %s", k, b)
				}
			}
		})
	}
}

func TestBlankXMPUTF16(t *testing.T) {
	src := `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:ps="http://ns.adobe.com/photoshop/1.0/" ps:City="Zürich 𝄞" ps:Credit="ok"/></rdf:RDF></x:xmpmeta>`
	for _, ord := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
		units := utf16.Encode([]rune(src))
		b := make([]byte, 2*len(units))
		for i, u := range units {
			ord.PutUint16(b[2*i:], u)
		}
		if !blankXMPLocation(b) {
			t.Fatalf("%v: no change", ord)
		}
		back := make([]uint16, len(b)/2)
		for i := range back {
			back[i] = ord.Uint16(b[2*i:])
		}
		s := string(utf16.Decode(back))
		if strings.Contains(s, "Zürich") || strings.Contains(s, "City") || !strings.Contains(s, `ps:Credit="ok"`) {
			t.Errorf("%v: %s", ord, s)
		}
	}
}

func TestBlankXMPUnparsable(t *testing.T) {
	for name, x := range map[string]string{
		"not XML":  `<a><b></a>`,
		"DOCTYPE":  `<!DOCTYPE x [<!ENTITY e "52,31N">]><x>&e;</x>`,
		"unclosed": `<x:xmpmeta xmlns:x="adobe:ns:meta/">`,
	} {
		b := []byte(x)
		blankXMPLocation(b)
		if strings.TrimSpace(string(b)) != "" {
			t.Errorf("%s: an unparsable packet must be blanked whole, got %q", name, b)
		}
	}
}

// iim builds IIM datasets: record, dataset, value.
func iim(ds ...any) []byte {
	var b []byte
	for i := 0; i < len(ds); i += 3 {
		v := ds[i+2].(string)
		b = append(b, 0x1C, byte(ds[i].(int)), byte(ds[i+1].(int)), byte(len(v)>>8), byte(len(v)))
		b = append(b, v...)
	}
	return b
}

func irbBlock(id uint16, data []byte) []byte {
	b := append([]byte("8BIM"), byte(id>>8), byte(id), 0, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func TestStripIRBLocation(t *testing.T) {
	record := iim(1, 90, "\x1b%G", 2, 0, "\x00\x04", 2, 90, "Berlin", 2, 80, "Ian", 2, 101, "Germany", 2, 92, "Mitte", 2, 116, "(c) me")
	irb := append(irbBlock(0x03ED, []byte("resolution")), irbBlock(irbIPTC, record)...)
	irb = append(irb, irbBlock(irbIPTCMD5, make([]byte, 16))...)
	n := len(irb)
	changed, err := stripIRBLocation(irb)
	if err != nil || !changed || len(irb) != n {
		t.Fatalf("changed=%v err=%v len %d->%d", changed, err, n, len(irb))
	}
	res, _ := parseIRB(irb)
	var got []byte
	for _, r := range res {
		if r.id == irbIPTC {
			got = irb[r.start:r.end]
			sum := md5.Sum(got)
			for _, d := range res {
				if d.id == irbIPTCMD5 && !bytes.Equal(irb[d.start:d.end], sum[:]) {
					t.Error("IPTC digest not updated")
				}
			}
		}
	}
	want := iim(1, 90, "\x1b%G", 2, 0, "\x00\x04", 2, 80, "Ian", 2, 116, "(c) me")
	if !bytes.HasPrefix(got, want) || !allZero(got[len(want):]) {
		t.Errorf("record = %q, want %q + zero padding", got, want)
	}
	// Record 1 dataset 90 is the envelope's character set, not a city.
	if !bytes.Contains(got, []byte("\x1b%G")) {
		t.Error("envelope dataset 1:90 was removed")
	}
}

func TestStripIRBMalformed(t *testing.T) {
	for name, b := range map[string][]byte{
		"bad signature":  []byte("8BIX\x04\x04\x00\x00\x00\x00\x00\x01"),
		"size overruns":  irbBlock(irbIPTC, []byte("x"))[:10],
		"bad IIM marker": irbBlock(irbIPTC, []byte{0x1D, 2, 90, 0, 1, 'x'}),
		"IIM overruns":   irbBlock(irbIPTC, []byte{0x1C, 2, 90, 0, 9, 'x'}),
	} {
		if _, err := stripIRBLocation(bytes.Clone(b)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRead(t *testing.T) {
	alt := 149.6418152
	cases := []struct {
		format, image string
		camera        Camera
		loc           *Location
	}{
		{"jpeg", "metadata/GPS.jpg",
			Camera{Make: "FUJIFILM", Model: "FinePixS1Pro", ExposureTime: "", FNumber: 0.64, Software: "Adobe Photoshop 7.0", Orientation: 1, TakenAt: "2002-07-13T15:58:28"},
			&Location{Latitude: 54.9896667, Longitude: -1.9141667}},
		{"avif", "exif-orientation/avif-orientation-6.avif",
			Camera{Make: "Apple", Model: "iPhone XS", Lens: "Apple iPhone XS back dual camera 4.25mm f/1.8", ExposureTime: "1/121",
				FNumber: 1.8, ISO: 40, FocalLength: 4.25, FocalLength35: 26, TakenAt: "2020-03-05T11:28:10.150", Software: "13.3.1", Orientation: 1},
			&Location{Latitude: 50.43975, Longitude: 30.5020722, Altitude: &alt}},
		{"jpeg", "photo/concert.jpg", Camera{}, nil},
	}
	for _, tc := range cases {
		md, err := Read(tc.format, bytes.NewReader(testenv.ReadImage(t, tc.image)))
		if err != nil {
			t.Fatalf("%s: %v", tc.image, err)
		}
		if md.Camera != tc.camera {
			t.Errorf("%s: camera\n got %+v\nwant %+v", tc.image, md.Camera, tc.camera)
		}
		switch {
		case (md.Location == nil) != (tc.loc == nil):
			t.Errorf("%s: location %+v, want %+v", tc.image, md.Location, tc.loc)
		case tc.loc != nil && (md.Location.Latitude != tc.loc.Latitude || md.Location.Longitude != tc.loc.Longitude ||
			(tc.loc.Altitude != nil) != (md.Location.Altitude != nil) || (tc.loc.Altitude != nil && *tc.loc.Altitude-*md.Location.Altitude > 1e-6)):
			t.Errorf("%s: location %+v, want %+v", tc.image, *md.Location, *tc.loc)
		}
	}
}

func TestTakenAt(t *testing.T) {
	for _, tc := range []struct{ dt, sub, off, want string }{
		{"2020:03:05 11:28:10", "150", "+01:00", "2020-03-05T11:28:10.150+01:00"},
		{"2020:03:05 11:28:10", "", "", "2020-03-05T11:28:10"},
		{"0000:00:00 00:00:00", "", "", ""},
		{"    :  :     :  :  ", "", "", ""},
		{"2020:03:05 11:28:1x", "", "", ""},
		{"2020:03:05 11:28:10", "1a", "+1", "2020-03-05T11:28:10"},
	} {
		if got := takenAt(tc.dt, tc.sub, tc.off); got != tc.want {
			t.Errorf("takenAt(%q, %q, %q) = %q, want %q", tc.dt, tc.sub, tc.off, got, tc.want)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("client went away") }

func TestStripWriterError(t *testing.T) {
	err := StripLocation("jpeg", bytes.NewReader(testenv.ReadImage(t, "metadata/GPS.jpg")), failingWriter{})
	if imgmgr.KindOf(err) != imgmgr.KindInternal {
		t.Fatalf("err = %v; a failing writer is not a malformed image", err)
	}
}

var (
	nativeLE binary.ByteOrder = binary.LittleEndian
	nativeBE binary.ByteOrder = binary.BigEndian
)

// TestClaimedLengthsCostNoMemory pins a bug: metadata buffers were
// allocated at the length a file claims, so a 40-byte file claiming a
// 16 MB chunk cost 16 MB per request. Buffers now grow with the bytes that
// arrive.
func TestClaimedLengthsCostNoMemory(t *testing.T) {
	webp := []byte("RIFF\xff\xff\xff\x00WEBPEXIF\x00\x00\xf0\x00short")
	png := []byte("\x89PNG\r\n\x1a\n\x00\xf0\x00\x00eXIfshort")
	heif := []byte("\x00\x00\x00\x10ftypavif\x00\x00\x00\x00\x00\xf0\x00\x00metashort")
	for _, tc := range []struct {
		format string
		data   []byte
	}{{"webp", webp}, {"png", png}, {"avif", heif}} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		err := StripLocation(tc.format, bytes.NewReader(tc.data), discard{})
		runtime.ReadMemStats(&after)
		if imgmgr.CodeOf(err) != "strip_failed" {
			t.Errorf("%s: err = %v, want strip_failed", tc.format, err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
			t.Errorf("%s: %d bytes allocated for a %d-byte file", tc.format, got, len(tc.data))
		}
	}
}
