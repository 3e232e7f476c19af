package svgsafe

import "strings"

// cleanCSS returns CSS (a <style> sheet or a style attribute) with every
// url(...) that leaves the document replaced by none, or "" when the CSS
// holds something that can fetch or run code and cannot be neutralised
// in place: escapes (which hide everything else), @import and other
// at-rules but @media, @supports and @keyframes, image-set(), cross-fade(),
// element(), src(), expression(), javascript: and behaviors.
func cleanCSS(css string) string {
	if strings.ContainsRune(css, '\\') || strings.ContainsRune(css, 0) {
		return ""
	}
	css, ok := stripComments(css)
	if !ok {
		return ""
	}
	lower := asciiLower(css)
	for _, bad := range []string{"image-set(", "cross-fade(", "element(", "src(", "expression(",
		"javascript:", "vbscript:", "behavior", "-moz-binding", "data:text", "<"} {
		if strings.Contains(lower, bad) {
			return ""
		}
	}
	if !atRulesAllowed(lower) {
		return ""
	}
	return neutraliseURLs(css)
}

// stripComments removes /* */ comments; false when one is left open.
func stripComments(css string) (string, bool) {
	var b strings.Builder
	for {
		i := strings.Index(css, "/*")
		if i < 0 {
			b.WriteString(css)
			return b.String(), true
		}
		b.WriteString(css[:i])
		j := strings.Index(css[i+2:], "*/")
		if j < 0 {
			return "", false
		}
		b.WriteByte(' ')
		css = css[i+2+j+2:]
	}
}

// atRulesAllowed reports whether every at-rule is one that cannot load
// anything.
func atRulesAllowed(lower string) bool {
	for i := strings.IndexByte(lower, '@'); i >= 0; {
		name := lower[i+1:]
		end := strings.IndexFunc(name, func(r rune) bool { return !(r == '-' || r >= 'a' && r <= 'z') })
		if end >= 0 {
			name = name[:end]
		}
		switch name {
		case "media", "supports", "keyframes", "-webkit-keyframes":
		default:
			return false
		}
		next := strings.IndexByte(lower[i+1:], '@')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return true
}

// neutraliseURLs replaces url(x) with none unless x is a fragment (#id).
func neutraliseURLs(css string) string {
	var b strings.Builder
	for {
		i := strings.Index(asciiLower(css), "url(")
		if i < 0 {
			b.WriteString(css)
			return b.String()
		}
		b.WriteString(css[:i])
		arg, rest, ok := urlArg(css[i+4:])
		if !ok {
			return "" // unterminated url( swallows the rest of the sheet
		}
		if strings.HasPrefix(arg, "#") {
			b.WriteString("url(" + arg + ")")
		} else {
			b.WriteString("none")
		}
		css = rest
	}
}

// urlArg reads a url( argument: quoted or bare, up to the closing paren.
func urlArg(s string) (arg, rest string, ok bool) {
	t := strings.TrimLeft(s, " \t\r\n\f")
	if t != "" && (t[0] == '"' || t[0] == '\'') {
		j := strings.IndexByte(t[1:], t[0])
		if j < 0 {
			return "", "", false
		}
		arg, t = t[1:1+j], t[2+j:]
		t = strings.TrimLeft(t, " \t\r\n\f")
		if t == "" || t[0] != ')' {
			return "", "", false
		}
		return strings.TrimSpace(arg), t[1:], true
	}
	j := strings.IndexByte(t, ')')
	if j < 0 {
		return "", "", false
	}
	return strings.TrimSpace(t[:j]), t[j+1:], true
}

// safeValue reports whether an attribute value may stay: no url() that
// leaves the document, no script scheme.
func safeValue(v string) bool {
	lower := asciiLower(v)
	if strings.Contains(lower, "javascript:") || strings.Contains(lower, "vbscript:") || strings.ContainsRune(v, '\\') {
		return false
	}
	if strings.Contains(lower, "url(") {
		return neutraliseURLs(v) == v
	}
	return true
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay valid.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
