// Command gen writes the hostile-file corpus under testdata/hostile: files
// an image service must refuse (or accept harmlessly), each listed with
// what it is and the answer ingest gives it in README.md and manifest.tsv.
//
//	go run ./testdata/hostile/gen          # (re)write the corpus
//	go run ./testdata/hostile/gen -check   # exit 1 if a file differs from what gen makes
//
// Run from the repository root. Output is deterministic: no clocks, no
// randomness; the compressed bomb depends on compress/zlib's output, so a
// new Go release may change its bytes (not its meaning).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// item is one corpus file.
type item struct {
	name     string
	what     string
	statuses string // allowed HTTP statuses through ingest, comma-separated
	codes    string // allowed error codes, comma-separated ("" for success)
	make     func(src source) ([]byte, error)
}

// source reads the licensed test images the corpus is derived from.
type source struct{ dir string }

func (s source) read(rel string) ([]byte, error) {
	return os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(rel)))
}

func main() {
	out := flag.String("dir", "testdata/hostile", "where the corpus goes")
	images := flag.String("images", "testdata/images", "the licensed test images")
	check := flag.Bool("check", false, "compare with the files on disk instead of writing")
	flag.Parse()
	if err := run(*out, source{*images}, *check); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string, src source, check bool) error {
	files := map[string][]byte{}
	for _, it := range corpus() {
		b, err := it.make(src)
		if err != nil {
			return fmt.Errorf("%s: %w", it.name, err)
		}
		if err := validate(it.name, b); err != nil {
			return fmt.Errorf("%s: %w", it.name, err)
		}
		files[it.name] = b
	}
	files["README.md"] = readme(files)
	files["manifest.tsv"] = manifest()
	var stale []string
	for name, b := range files {
		p := filepath.Join(dir, name)
		if check {
			if old, err := os.ReadFile(p); err != nil || !bytes.Equal(old, b) {
				stale = append(stale, name)
			}
			continue
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("out of date (run go run ./testdata/hostile/gen): %s", strings.Join(stale, ", "))
	}
	return nil
}

func readme(files map[string][]byte) []byte {
	var b bytes.Buffer
	b.WriteString(`# Hostile-file corpus

Files an image service meets on the internet. Each must get the answer in the last column through
both multipart and tus uploads, nothing refused may be stored, and the server must stay healthy.
Made by ` + "`go run ./testdata/hostile/gen`" + ` (deterministic; ` + "`-check`" + ` verifies the files) from the licensed images in
testdata/images (see its LICENSES.md). ` + "`manifest.tsv`" + ` holds the same table for tests: file, allowed
statuses, allowed error codes, description.

The answers assume ingest's order (sniff by magic bytes, header limits, full decode, malware scan)
and its default limits (50 megapixels, 1000 frames); SVG is refused unless enabled. The EICAR files
hold the anti-virus test string: scanners on a developer machine will flag them, as they should.

| file | bytes | what it is | expected |
|---|---|---|---|
`)
	for _, it := range corpus() {
		exp := it.statuses
		if it.codes != "" {
			exp += " " + strings.ReplaceAll(it.codes, ",", " or ")
		}
		fmt.Fprintf(&b, "| `%s` | %d | %s | %s |\n", it.name, len(files[it.name]), it.what, exp)
	}
	return b.Bytes()
}

func manifest() []byte {
	var b bytes.Buffer
	b.WriteString("# file\tstatuses\tcodes\twhat\n")
	for _, it := range corpus() {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", it.name, it.statuses, it.codes, strings.ReplaceAll(it.what, "`", ""))
	}
	return b.Bytes()
}
