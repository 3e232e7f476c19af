package sqldb

import (
	"testing"
	"time"
)

func TestRebind(t *testing.T) {
	for _, tc := range []struct {
		numbered bool
		in, want string
	}{
		{false, `SELECT a FROM t WHERE a = ? AND b IN (?, ?)`, `SELECT a FROM t WHERE a = ? AND b IN (?, ?)`},
		{true, `SELECT a FROM t WHERE a = ? AND b IN (?, ?)`, `SELECT a FROM t WHERE a = $1 AND b IN ($2, $3)`},
		{true, `SELECT 1`, `SELECT 1`},
	} {
		db := &DB{d: Dialect{Numbered: tc.numbered}}
		if got := db.rebind(tc.in); got != tc.want {
			t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLikeEscape(t *testing.T) {
	for in, want := range map[string]string{
		"fox":       "fox",
		"100%":      `100\%`,
		"a_b":       `a\_b`,
		`back\nope`: `back\\nope`,
	} {
		if got := likeEscape(in); got != want {
			t.Errorf("likeEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

// The text form of times has a fixed width, so that text order is time order.
func TestTimeTextSorts(t *testing.T) {
	a := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	b := a.Add(time.Microsecond)
	c := a.Add(time.Second)
	sa, sb, sc := a.Format(TimeText), b.Format(TimeText), c.Format(TimeText)
	if len(sa) != len(sb) || len(sb) != len(sc) || !(sa < sb && sb < sc) {
		t.Fatalf("not fixed-width and ordered: %q %q %q", sa, sb, sc)
	}
	var got time.Time
	if err := (timeScan{&got}).Scan(sb); err != nil || !got.Equal(b) {
		t.Fatalf("scan %q = %v, %v; want %v", sb, got, err, b)
	}
}
