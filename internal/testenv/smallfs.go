package testenv

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// SmallFS mounts a tmpfs of size bytes on a new temp directory and returns
// it, for tests of a full disk; it is unmounted when the test ends. Mounting
// needs root (CI runs as root): elsewhere the test is skipped, and under
// CI=true it fails.
func SmallFS(t testing.TB, size int64) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "imgmgr-smallfs-")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.FormatInt(size, 10), "tmpfs", dir).CombinedOutput()
	if err != nil {
		os.Remove(dir)
		missing(t, "a size-limited file system (mount -t tmpfs: "+string(out)+")")
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
		os.Remove(dir)
	})
	return dir
}
