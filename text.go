package imgmgr

import (
	"strings"
	"unicode"
)

// CleanText returns s as a name, title, tag or file name may hold it: valid
// UTF-8 with no control characters (Cc), no format characters (Cf: the
// bidirectional embeddings, overrides and isolates U+202A–U+202E and
// U+2066–U+2069, the marks U+200E/U+200F, zero-width characters such as
// U+200B–U+200D and U+2060, the byte order mark U+FEFF, ...), no line or
// paragraph separators and no U+FFFD. Such characters are invisible or
// reorder what a person reads, so "photo\u202Egpj.exe" would be shown as
// "photoexe.jpg" (issue 10, item 12). Every place that accepts such a
// field calls this one function; it does not trim or truncate.
func CleanText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}
