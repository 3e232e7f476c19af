package imgmgr

import (
	"fmt"
	"io/fs"
	"syscall"
	"testing"
	"time"
)

// A full disk anywhere under an internal error is answered as
// KindInsufficientStorage with a Retry-After; a kind set on purpose wins.
func TestStorageFullIsClassified(t *testing.T) {
	enospc := &fs.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}
	for _, tc := range []struct {
		name string
		err  error
		want Kind
	}{
		{"plain", fmt.Errorf("spool: %w", enospc), KindInsufficientStorage},
		{"quota", Internal("op", fmt.Errorf("x: %w", syscall.EDQUOT)), KindInsufficientStorage},
		{"wrapped internal", Wrap("op", Internal("inner", enospc)), KindInsufficientStorage},
		{"a kind set on purpose", &Error{Kind: KindTooLarge, Err: enospc}, KindTooLarge},
		{"other internal", Internal("op", syscall.EIO), KindInternal},
	} {
		if got := KindOf(tc.err); got != tc.want {
			t.Errorf("%s: KindOf = %v, want %v", tc.name, got, tc.want)
		}
	}
	err := Internal("op", enospc)
	if code, msg := PublicError(err); code != "insufficient_storage" || msg == "internal error" {
		t.Errorf("PublicError = %q, %q", code, msg)
	}
	if d := RetryAfterOf(err); d != time.Minute {
		t.Errorf("RetryAfterOf = %v", d)
	}
}
