package variant

import "strings"

// Presets are named option strings from config, e.g. "thumb" ->
// "rs:fill:320:320". Parse expands pr:NAME in place.
type Presets map[string][]string

// ParsePresets splits each preset's option string into segments and
// checks that every preset parses (a preset may use other presets).
func ParsePresets(raw map[string]string) (Presets, error) {
	ps := Presets{}
	for name, s := range raw {
		ps[name] = splitPath(s)
	}
	for name := range ps {
		if _, err := Parse([]string{"pr:" + name}, ps); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

func splitPath(s string) []string {
	var segs []string
	for _, p := range strings.Split(strings.Trim(s, "/"), "/") {
		if p != "" {
			segs = append(segs, p)
		}
	}
	return segs
}

// ParseString parses options written as one path, "rs:fit:800:0/q:80".
func ParseString(s string, presets Presets) (Options, error) {
	return Parse(splitPath(s), presets)
}

// Parse applies option segments, left to right, over Defaults(). A later
// option overrides an earlier one; pr:NAME applies the preset's options at
// its place. Unknown options and bad arguments give a KindInvalid error
// naming the option.
func Parse(segments []string, presets Presets) (Options, error) {
	o := Defaults()
	err := o.apply(segments, presets, 0)
	return o, err
}

func (o *Options) apply(segments []string, presets Presets, depth int) error {
	for _, seg := range segments {
		name, args := splitArgs(seg)
		if name == "pr" || name == "preset" {
			if err := o.applyPresets(name, args, presets, depth); err != nil {
				return err
			}
			continue
		}
		set, ok := setters[name]
		if !ok {
			return badOption(name, "unknown option")
		}
		if err := set(o, name, args); err != nil {
			return err
		}
	}
	return nil
}

func (o *Options) applyPresets(name string, args []string, presets Presets, depth int) error {
	if depth > 4 {
		return badOption(name, "presets nest too deep")
	}
	if len(args) == 0 {
		return badOption(name, "needs a preset name")
	}
	for _, p := range args {
		segs, ok := presets[p]
		if !ok {
			return badOption(name, "unknown preset %q", p)
		}
		if err := o.apply(segs, presets, depth+1); err != nil {
			return err
		}
		o.Presets = append(o.Presets, p)
	}
	return nil
}
