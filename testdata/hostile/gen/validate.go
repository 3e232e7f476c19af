package main

import (
	"bytes"
	"fmt"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
)

// validate checks that each generated file is what its line says, where
// the standard library can tell: the bombs and headers decode as claimed,
// the EICAR string is present, the carriers still decode.
func validate(name string, b []byte) error {
	switch {
	case strings.HasPrefix(name, "eicar"):
		if !bytes.Contains(b, eicar()) {
			return fmt.Errorf("no EICAR string")
		}
		if strings.HasSuffix(name, ".jpg") {
			_, err := jpeg.Decode(bytes.NewReader(b))
			return err
		}
	case name == "huge-dimensions.png", name == "bomb-60000x60000.png":
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil || int64(cfg.Width)*int64(cfg.Height) < 3_000_000_000 {
			return fmt.Errorf("header %+v, %v", cfg, err)
		}
	case name == "huge-dimensions.jpg":
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width != 65500 || cfg.Height != 65500 {
			return fmt.Errorf("header %+v, %v", cfg, err)
		}
	case name == "frames-100000.gif":
		g, err := gif.DecodeAll(bytes.NewReader(b))
		if err != nil || len(g.Image) != 100_000 {
			return fmt.Errorf("decoded %d frames, %v", len(g.Image), err)
		}
	case name == "polyglot-jpeg-zip.jpg":
		_, err := jpeg.Decode(bytes.NewReader(b))
		return err
	}
	return nil
}
