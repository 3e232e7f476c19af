package tus

import (
	"encoding/base64"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/ingest"
)

// Metadata is what imgmgr reads from Upload-Metadata. Other keys (Uppy
// sends relativePath, for one) are checked for syntax and then ignored.
type Metadata struct {
	Filename   string // "filename", or "name" when filename is absent
	Filetype   string // informative only: the type is sniffed from the bytes
	Title      string
	Album      string
	Tags       []string // "tags": comma-separated
	Visibility imgmgr.Visibility
}

// maxMetaValue bounds one decoded value of a known key.
const maxMetaValue = 1024

// ParseMetadata parses an Upload-Metadata header strictly: comma-separated
// pairs "key base64value" (the value and its space may be left out), keys
// of printable ASCII without spaces or commas, unique, values standard
// padded base64; known keys must decode to clean UTF-8 text within limits,
// visibility must be private or public, tags must pass ingest's rules.
func ParseMetadata(header string, maxBytes int) (Metadata, error) {
	var md Metadata
	if header == "" {
		return md, nil
	}
	if len(header) > maxBytes {
		return md, badMeta("Upload-Metadata is longer than %d bytes", maxBytes)
	}
	seen := map[string]bool{}
	values := map[string]string{}
	for _, pair := range strings.Split(header, ",") {
		pair = strings.TrimLeft(pair, " ") // tolerate "a b, c d"
		key, enc, _ := strings.Cut(pair, " ")
		if !validKey(key) {
			return md, badMeta("metadata key %q is empty or has characters other than printable ASCII", truncate(key, 40))
		}
		if seen[key] {
			return md, badMeta("metadata key %q is repeated", key)
		}
		seen[key] = true
		if strings.Contains(enc, " ") {
			return md, badMeta("metadata value of %q is not base64", key)
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(enc)
		if err != nil {
			return md, badMeta("metadata value of %q is not standard base64", key)
		}
		values[key] = string(raw)
	}
	return md, md.fill(values)
}

func (md *Metadata) fill(v map[string]string) error {
	for _, k := range []string{"filename", "name", "filetype", "type", "title", "album", "tags", "visibility"} {
		if s, ok := v[k]; ok && !cleanText(s) {
			return badMeta("metadata %q must be UTF-8 text of at most %d bytes without control characters", k, maxMetaValue)
		}
	}
	md.Filename = imgmgr.CleanText(v["filename"]) // staged, echoed in events, and cleaned again by ingest
	if md.Filename == "" {
		md.Filename = imgmgr.CleanText(v["name"])
	}
	md.Filetype = v["filetype"]
	md.Title, md.Album = imgmgr.CleanText(v["title"]), imgmgr.CleanText(v["album"])
	if vis, ok := v["visibility"]; ok {
		md.Visibility = imgmgr.Visibility(vis)
		if !md.Visibility.Valid() {
			return badMeta("metadata visibility must be private or public")
		}
	}
	if tags, ok := v["tags"]; ok {
		t, err := ingest.NormalizeTags(ingest.SplitTags(tags))
		if err != nil {
			return err
		}
		md.Tags = t
	}
	return nil
}

// Request returns the ingest request for an upload with this metadata.
func (md Metadata) Request(owner imgmgr.Principal, uploadID string) ingest.Request {
	return ingest.Request{Owner: owner, Filename: md.Filename, Title: md.Title, Tags: md.Tags,
		Album: md.Album, Visibility: md.Visibility, UploadID: uploadID}
}

func validKey(k string) bool {
	if k == "" || len(k) > 100 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c > '~' || c == ',' {
			return false
		}
	}
	return true
}

func cleanText(s string) bool {
	if len(s) > maxMetaValue || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func badMeta(format string, args ...any) error {
	return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_metadata", format, args...)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
