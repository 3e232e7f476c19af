package variant

import "strconv"

type setter func(o *Options, name string, args []string) error

// setters are the options of the grammar, under imgproxy's full and short
// names. The table is built once and never changed.
var setters = buildSetters()

func buildSetters() map[string]setter {
	m := map[string]setter{}
	for _, s := range []struct {
		names []string
		fn    setter
	}{
		{[]string{"resize", "rs"}, setResize},
		{[]string{"size", "s"}, setSize},
		{[]string{"resizing_type", "rt"}, setResizeType},
		{[]string{"width", "w"}, dimension(func(o *Options) *int { return &o.Width })},
		{[]string{"height", "h"}, dimension(func(o *Options) *int { return &o.Height })},
		{[]string{"min-width", "min_width", "mw"}, dimension(func(o *Options) *int { return &o.MinWidth })},
		{[]string{"min-height", "min_height", "mh"}, dimension(func(o *Options) *int { return &o.MinHeight })},
		{[]string{"enlarge", "el"}, flag(func(o *Options) *bool { return &o.Enlarge })},
		{[]string{"gravity", "g"}, setGravity},
		{[]string{"dpr"}, setDPR},
		{[]string{"quality", "q"}, setQuality},
		{[]string{"format", "f", "ext"}, setFormat},
		{[]string{"auto_rotate", "ar"}, flag(func(o *Options) *bool { return &o.AutoRotate })},
		{[]string{"keep_copyright", "kcr"}, flag(func(o *Options) *bool { return &o.KeepCopyright })},
		{[]string{"strip_color_profile", "scp"}, setStripProfile},
		{[]string{"expires", "exp"}, setExpires},
	} {
		for _, n := range s.names {
			m[n] = s.fn
		}
	}
	return m
}

func setResize(o *Options, name string, args []string) error {
	if err := wantArgs(name, args, 1, 5); err != nil {
		return err
	}
	if err := setResizeType(o, name, args[:1]); err != nil {
		return err
	}
	return setSize(o, name, args[1:])
}

func setSize(o *Options, name string, args []string) error {
	if err := wantArgs(name, args, 0, 4); err != nil {
		return err
	}
	targets := []*int{&o.Width, &o.Height}
	for i, a := range args {
		switch {
		case a == "":
			continue // imgproxy: an empty argument keeps the current value
		case i < 2:
			n, err := parseInt(name, a, 0, MaxDimension)
			if err != nil {
				return err
			}
			*targets[i] = n
		case i == 2:
			b, err := parseBool(name, a)
			if err != nil {
				return err
			}
			o.Enlarge = b
		default: // extend: not supported beyond "off"
			if b, err := parseBool(name, a); err != nil || b {
				return badOption(name, "extend is not supported")
			}
		}
	}
	return nil
}

func setResizeType(o *Options, name string, args []string) error {
	if err := wantArgs(name, args, 1, 1); err != nil {
		return err
	}
	switch args[0] {
	case Fit, Fill, FillDown, Force, Auto:
		o.ResizeType = args[0]
		return nil
	}
	return badOption(name, "unknown resizing type %q", args[0])
}

func dimension(field func(*Options) *int) setter {
	return func(o *Options, name string, args []string) error {
		if err := wantArgs(name, args, 1, 1); err != nil {
			return err
		}
		n, err := parseInt(name, args[0], 0, MaxDimension)
		*field(o) = n
		return err
	}
}

func flag(field func(*Options) *bool) setter {
	return func(o *Options, name string, args []string) error {
		if err := wantArgs(name, args, 0, 1); err != nil {
			return err
		}
		v := "1"
		if len(args) == 1 {
			v = args[0]
		}
		b, err := parseBool(name, v)
		*field(o) = b
		return err
	}
}

func setStripProfile(o *Options, name string, args []string) error {
	var strip bool
	err := flag(func(*Options) *bool { return &strip })(o, name, args)
	o.KeepProfile = !strip
	return err
}

func setGravity(o *Options, name string, args []string) error {
	if err := wantArgs(name, args, 1, 3); err != nil {
		return err
	}
	t := args[0]
	switch {
	case t == GravityFocus:
		if len(args) != 3 {
			return badOption(name, "fp needs x and y from 0 to 1")
		}
		x, err := parseFloat(name, args[1], 0, 1)
		if err != nil {
			return err
		}
		y, err := parseFloat(name, args[2], 0, 1)
		if err != nil {
			return err
		}
		o.Gravity = Gravity{Type: t, X: x, Y: y}
	case compass[t] || t == GravitySmart:
		for _, off := range args[1:] { // offsets: only zero is supported
			if f, err := strconv.ParseFloat(off, 64); err != nil || f != 0 {
				return badOption(name, "gravity offsets are not supported")
			}
		}
		o.Gravity = Gravity{Type: t}
	default:
		return badOption(name, "unknown gravity %q", t)
	}
	return nil
}

func setDPR(o *Options, name string, args []string) error {
	if err := wantArgs(name, args, 1, 1); err != nil {
		return err
	}
	f, err := parseFloat(name, args[0], 0.01, MaxDPR)
	if err != nil {
		return err
	}
	o.DPR = float64(int(f*100+0.5)) / 100 // two decimals, so 2 and 2.0001 share a cache entry
	return nil
}

func setQuality(o *Options, name string, args []string) error {
	if err := wantArgs(name, args, 1, 1); err != nil {
		return err
	}
	q, err := parseInt(name, args[0], 0, 100)
	o.Quality = q
	return err
}

func setFormat(o *Options, name string, args []string) error {
	if err := wantArgs(name, args, 1, 1); err != nil {
		return err
	}
	f, err := ParseFormat(args[0])
	if err != nil {
		return badOption(name, "unsupported output format %q", args[0])
	}
	o.Format = f
	return nil
}

func setExpires(o *Options, name string, args []string) error {
	if err := wantArgs(name, args, 1, 1); err != nil {
		return err
	}
	n, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || n <= 0 {
		return badOption(name, "want unix seconds, got %q", args[0])
	}
	o.Expires = n
	return nil
}
