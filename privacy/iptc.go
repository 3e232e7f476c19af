package privacy

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
)

// Photoshop image resources (JPEG APP13 "Photoshop 3.0\0"): a sequence of
// "8BIM" id(2) pascal-name(padded to even) size(4) data(padded to even).
const (
	irbSignature = "Photoshop 3.0\x00"
	irbIPTC      = 0x0404 // IPTC-NAA record
	irbIPTCMD5   = 0x0425 // MD5 of the IPTC record, used by readers to spot edits
)

var errBadIRB = errors.New("malformed Photoshop resource block")

// irbResource locates one resource's data inside an IRB.
type irbResource struct {
	id         uint16
	start, end int // data bytes, without padding
}

func parseIRB(b []byte) ([]irbResource, error) {
	var out []irbResource
	for i := 0; i < len(b); {
		if len(b)-i < 4 || string(b[i:i+4]) != "8BIM" {
			if allZero(b[i:]) { // trailing padding
				return out, nil
			}
			return nil, errBadIRB
		}
		i += 4
		if len(b)-i < 3 {
			return nil, errBadIRB
		}
		id := binary.BigEndian.Uint16(b[i:])
		i += 2
		nameLen := int(b[i]) + 1
		i += nameLen + nameLen%2
		if len(b)-i < 4 {
			return nil, errBadIRB
		}
		size := int(binary.BigEndian.Uint32(b[i:]))
		i += 4
		if size < 0 || size > len(b)-i {
			return nil, errBadIRB
		}
		out = append(out, irbResource{id: id, start: i, end: i + size})
		i += size + size%2
	}
	return out, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// IPTC IIM datasets of the application record (2) that name a place.
var iptcLocationDatasets = map[byte]bool{
	26:  true, // Content Location Code
	27:  true, // Content Location Name
	90:  true, // City
	92:  true, // Sub-location
	95:  true, // Province/State
	100: true, // Country/Primary Location Code
	101: true, // Country/Primary Location Name
}

// stripIRBLocation removes the location datasets from the IPTC record of
// the Photoshop resource block b, in place and keeping every length: the
// remaining datasets move up and the freed bytes at the end of the record
// are zeroed (IIM readers stop at the padding, as they do at Photoshop's
// own). The IPTC MD5 resource, when present, is updated to the new
// record (padding included, as readers compute it). It reports whether anything was removed.
func stripIRBLocation(b []byte) (bool, error) {
	res, err := parseIRB(b)
	if err != nil {
		return false, err
	}
	changed := false
	for _, r := range res {
		if r.id != irbIPTC {
			continue
		}
		c, err := stripIIM(b[r.start:r.end])
		if err != nil {
			return false, err
		}
		changed = changed || c
	}
	if !changed {
		return false, nil
	}
	for _, r := range res {
		if r.id == irbIPTCMD5 && r.end-r.start == md5.Size {
			for _, ip := range res {
				if ip.id == irbIPTC {
					sum := md5.Sum(b[ip.start:ip.end])
					copy(b[r.start:r.end], sum[:])
					break
				}
			}
		}
	}
	return true, nil
}

// stripIIM removes record-2 location datasets from an IIM stream in place:
// 0x1C record dataset size(2, or extended) data.
func stripIIM(b []byte) (bool, error) {
	w := 0
	changed := false
	for i := 0; i < len(b); {
		if b[i] != 0x1C {
			if allZero(b[i:]) {
				break
			}
			return false, errBadIRB
		}
		if len(b)-i < 5 {
			return false, errBadIRB
		}
		rec, ds := b[i+1], b[i+2]
		size := int(binary.BigEndian.Uint16(b[i+3:]))
		head := 5
		if size&0x8000 != 0 { // extended dataset: the next n bytes hold the size
			n := size & 0x7FFF
			if n > 4 || len(b)-i < 5+n {
				return false, errBadIRB
			}
			size = 0
			for _, c := range b[i+5 : i+5+n] {
				size = size<<8 | int(c)
			}
			head += n
		}
		if size < 0 || size > len(b)-i-head {
			return false, errBadIRB
		}
		n := head + size
		if rec == 2 && iptcLocationDatasets[ds] {
			changed = true
		} else {
			copy(b[w:], b[i:i+n])
			w += n
		}
		i += n
	}
	if changed {
		clear(b[w:])
	}
	return changed, nil
}
