package privacy

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Camera holds the camera fields of an image's EXIF, for the API's
// metadata JSON. Zero fields were absent.
type Camera struct {
	Make          string  `json:"make,omitempty"`
	Model         string  `json:"model,omitempty"`
	Lens          string  `json:"lens,omitempty"`
	ExposureTime  string  `json:"exposure_time,omitempty"` // "1/250" or "2.5" seconds
	FNumber       float64 `json:"f_number,omitempty"`
	ISO           int     `json:"iso,omitempty"`
	FocalLength   float64 `json:"focal_length_mm,omitempty"`
	FocalLength35 int     `json:"focal_length_35mm,omitempty"`
	TakenAt       string  `json:"taken_at,omitempty"` // "2006-01-02T15:04:05[.sss][±hh:mm]": the camera's local time, with its offset when recorded
	Software      string  `json:"software,omitempty"`
	Orientation   int     `json:"orientation,omitempty"` // EXIF 1..8
}

// Location is where an image was taken, from its EXIF GPS IFD. It is shown
// only to the image's owner.
type Location struct {
	Latitude  float64  `json:"latitude"`  // degrees, north positive
	Longitude float64  `json:"longitude"` // degrees, east positive
	Altitude  *float64 `json:"altitude_m,omitempty"`
}

// Metadata is what Read finds.
type Metadata struct {
	Camera   Camera
	Location *Location // nil when the image carries none
}

// reader is the handler that reads the first EXIF block.
type reader struct {
	md   Metadata
	seen bool
}

func (rd *reader) exif(b []byte) {
	if rd.seen {
		return
	}
	t, err := parseTIFF(b)
	if err != nil {
		return
	}
	rd.seen = true
	rd.md = readTIFF(t)
}
func (rd *reader) xmp([]byte) {}
func (rd *reader) irb([]byte) {}

// Read returns the camera fields and the location of the image in r
// (formats as for StripLocation). An image without EXIF gives a zero
// Metadata and no error. It reads only as far as it needs to for JPEG and
// PNG.
func Read(format string, r io.Reader) (Metadata, error) {
	rd := &reader{}
	var err error
	r = ioReader{r}
	switch format {
	case "jpeg":
		err = walkJPEG(r, stopWriter{rd}, rd)
	case "png":
		err = walkPNG(r, stopWriter{rd}, rd)
	case "gif":
		err = walkGIF(r, io.Discard, rd)
	case "webp":
		err = walkWebP(r, io.Discard, rd)
	case "avif", "heif":
		err = walkISOBMFF(r, io.Discard, rd)
	case "bmp":
	default:
		return Metadata{}, ErrUnsupported
	}
	if err := classify("privacy.Read", err); err != nil && !rd.seen {
		return Metadata{}, err
	}
	return rd.md, nil
}

// stopWriter discards output and stops the walk once EXIF has been read:
// the walker writes each block after handing it over.
type stopWriter struct{ rd *reader }

func (s stopWriter) Write(p []byte) (int, error) {
	if s.rd.seen {
		return 0, errStop
	}
	return len(p), nil
}

// EXIF tags read for Camera and Location.
const (
	tagMake         = 0x010F
	tagModel        = 0x0110
	tagOrientation  = 0x0112
	tagSoftware     = 0x0131
	tagDateTime     = 0x0132
	tagExposureTime = 0x829A
	tagFNumber      = 0x829D
	tagISO          = 0x8827
	tagDateTimeOrig = 0x9003
	tagOffsetOrig   = 0x9011
	tagFocalLength  = 0x920A
	tagSubSecOrig   = 0x9291
	tagFocal35      = 0xA405
	tagLensMake     = 0xA433
	tagLensModel    = 0xA434
	tagGPSLatRef    = 1
	tagGPSLat       = 2
	tagGPSLonRef    = 3
	tagGPSLon       = 4
	tagGPSAltRef    = 5
	tagGPSAlt       = 6
	maxFieldLength  = 128
)

func readTIFF(t *tiff) Metadata {
	var md Metadata
	c := &md.Camera
	var ifd0, exif []entry
	if es, _, err := t.entries(t.ifd0()); err == nil {
		ifd0 = es
	}
	if e, ok := find(ifd0, tagExifIFD); ok {
		if p, ok := t.pointer(e); ok {
			exif, _, _ = t.entries(p)
		}
	}
	c.Make = t.ascii(ifd0, tagMake)
	c.Model = t.ascii(ifd0, tagModel)
	c.Software = t.ascii(ifd0, tagSoftware)
	c.Orientation = int(t.uint(ifd0, tagOrientation))
	c.Lens = strings.TrimSpace(t.ascii(exif, tagLensModel))
	if lm := t.ascii(exif, tagLensMake); lm != "" && c.Lens != "" && !strings.HasPrefix(c.Lens, lm) {
		c.Lens = lm + " " + c.Lens
	}
	c.ExposureTime = exposure(t.rational(exif, tagExposureTime))
	c.FNumber = round2(ratio(t.rational(exif, tagFNumber)))
	c.ISO = int(t.uint(exif, tagISO))
	c.FocalLength = round2(ratio(t.rational(exif, tagFocalLength)))
	c.FocalLength35 = int(t.uint(exif, tagFocal35))
	c.TakenAt = takenAt(t.ascii(exif, tagDateTimeOrig), t.ascii(exif, tagSubSecOrig), t.ascii(exif, tagOffsetOrig))
	if c.TakenAt == "" {
		c.TakenAt = takenAt(t.ascii(ifd0, tagDateTime), "", "")
	}
	if e, ok := find(ifd0, tagGPSIFD); ok {
		if p, ok := t.pointer(e); ok {
			if gps, _, err := t.entries(p); err == nil {
				md.Location = t.location(gps)
			}
		}
	}
	return md
}

// ascii returns a printable ASCII value, trimmed and bounded.
func (t *tiff) ascii(es []entry, tag uint16) string {
	e, ok := find(es, tag)
	if !ok || (e.typ != 2 && e.typ != 7) {
		return ""
	}
	v := t.value(e)
	if i := strings.IndexByte(string(v), 0); i >= 0 {
		v = v[:i]
	}
	var b strings.Builder
	for _, c := range v {
		if b.Len() >= maxFieldLength {
			break
		}
		if c >= ' ' && c < 0x7f {
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}

// uint returns the first value of a SHORT or LONG entry.
func (t *tiff) uint(es []entry, tag uint16) uint32 {
	e, ok := find(es, tag)
	if !ok || e.count == 0 {
		return 0
	}
	v := t.value(e)
	switch {
	case e.typ == 3 && len(v) >= 2:
		return uint32(t.ord.Uint16(v))
	case e.typ == 4 && len(v) >= 4:
		return t.ord.Uint32(v)
	}
	return 0
}

// rational returns the i-th unsigned rational of an entry ({0,0} if none).
func (t *tiff) rationalAt(es []entry, tag uint16, i int) [2]uint32 {
	e, ok := find(es, tag)
	if !ok || e.typ != 5 || uint64(i) >= uint64(e.count) {
		return [2]uint32{}
	}
	v := t.value(e)
	if len(v) < 8*(i+1) {
		return [2]uint32{}
	}
	return [2]uint32{t.ord.Uint32(v[8*i:]), t.ord.Uint32(v[8*i+4:])}
}

func (t *tiff) rational(es []entry, tag uint16) [2]uint32 { return t.rationalAt(es, tag, 0) }

func ratio(r [2]uint32) float64 {
	if r[1] == 0 {
		return 0
	}
	return float64(r[0]) / float64(r[1])
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// exposure writes an exposure time as photographers do: "1/250" below a
// second, else seconds.
func exposure(r [2]uint32) string {
	s := ratio(r)
	switch {
	case s <= 0:
		return ""
	case s < 1:
		return fmt.Sprintf("1/%d", int(math.Round(1/s)))
	}
	return fmt.Sprintf("%g", round2(s))
}

// takenAt turns EXIF's "2006:01:02 15:04:05" (+ sub-seconds, + "+02:00")
// into "2006-01-02T15:04:05[.sss][+02:00]"; "" when it is not a date.
func takenAt(dt, subsec, offset string) string {
	if len(dt) != 19 || dt[4] != ':' || dt[7] != ':' || dt[10] != ' ' || strings.HasPrefix(dt, "0000") {
		return ""
	}
	for i, c := range dt {
		if i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && (c < '0' || c > '9') {
			return ""
		}
	}
	s := dt[:4] + "-" + dt[5:7] + "-" + dt[8:10] + "T" + dt[11:]
	if subsec = strings.TrimSpace(subsec); subsec != "" && len(subsec) <= 9 && strings.Trim(subsec, "0123456789") == "" {
		s += "." + subsec
	}
	if len(offset) == 6 && (offset[0] == '+' || offset[0] == '-') && offset[3] == ':' {
		s += offset
	}
	return s
}

// location reads latitude, longitude and altitude from a GPS IFD.
func (t *tiff) location(gps []entry) *Location {
	lat, okLat := t.degrees(gps, tagGPSLat, tagGPSLatRef, "S")
	lon, okLon := t.degrees(gps, tagGPSLon, tagGPSLonRef, "W")
	if !okLat || !okLon || math.Abs(lat) > 90 || math.Abs(lon) > 180 {
		return nil
	}
	loc := &Location{Latitude: lat, Longitude: lon}
	if r := t.rational(gps, tagGPSAlt); r[1] != 0 {
		alt := ratio(r)
		if e, ok := find(gps, tagGPSAltRef); ok && e.typ == 1 && e.count >= 1 && t.b[e.pos+8] == 1 {
			alt = -alt
		}
		loc.Altitude = &alt
	}
	return loc
}

// degrees reads a GPS coordinate (degrees, minutes, seconds) and its
// reference, negative when the reference is neg.
func (t *tiff) degrees(gps []entry, tag, refTag uint16, neg string) (float64, bool) {
	var v float64
	for i, scale := range []float64{1, 60, 3600} {
		r := t.rationalAt(gps, tag, i)
		if r[1] == 0 {
			if i == 0 {
				return 0, false
			}
			continue
		}
		v += ratio(r) / scale
	}
	if strings.EqualFold(t.ascii(gps, refTag), neg) {
		v = -v
	}
	return math.Round(v*1e7) / 1e7, true
}
