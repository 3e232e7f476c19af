package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// tempDir is a directory where a component writes temp files, and the
// name prefixes of those files: only they are ever swept.
type tempDir struct {
	name     string // label: spool, staging, blobs
	dir      string
	prefixes []string
}

// tempDirs lists the temp files the server writes: ingest's spool
// (<upload.temp_dir>/ingest-*), tus staging's record replacements
// (<upload.staging_dir>/.record-*) and the local blob store's writes
// (<blobs>/tmp/put-*, ping-*). Staged uploads themselves (<id>.json,
// .bin, .off) are not temp files: tus's sweeper expires them.
func (a *app) tempDirs() []tempDir {
	cfg := a.cfg
	dirs := []tempDir{
		{"spool", dataPath(cfg, cfg.Upload.TempDir, "tmp"), []string{"ingest-"}},
		{"staging", dataPath(cfg, cfg.Upload.StagingDir, "staging"), []string{".record-"}},
	}
	if cfg.Storage.Backend == "local" {
		dirs = append(dirs, tempDir{"blobs", filepath.Join(dataPath(cfg, cfg.Storage.LocalDir, "blobs"), "tmp"), []string{"put-", "ping-"}})
	}
	return dirs
}

// sweepTemp removes the temp files that a killed process left behind
// (issue 10, item 5: spool files of SIGKILLed servers stayed forever),
// logs what it removed and counts it in imgmgr_startup_swept_temp_files
// and _bytes.
//
// It removes only files last modified before started, the moment this
// process began building, never newer ones, because replicas may share a
// data dir on purpose and a peer may be writing its own temp files: a
// peer's spool file is held open, and removing an open file on POSIX
// leaves the peer's descriptor working; the rename-based files (blob
// put-*, staging .record-*) live for one write and rename, so one that
// predates this start belongs to a dead writer. A directory that is
// missing has nothing to sweep.
func (a *app) sweepTemp(started time.Time) {
	files := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "imgmgr_startup_swept_temp_files",
		Help: "Temp files left by an earlier process and removed at start-up, by directory."}, []string{"dir"})
	bytes := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "imgmgr_startup_swept_temp_bytes",
		Help: "Bytes of the temp files removed at start-up, by directory."}, []string{"dir"})
	a.reg.MustRegister(files, bytes)
	for _, d := range a.tempDirs() {
		n, size, err := sweepDir(d, started)
		files.WithLabelValues(d.name).Set(float64(n))
		bytes.WithLabelValues(d.name).Set(float64(size))
		if err != nil {
			a.log.Warn("start-up: sweeping temp files", "dir", d.dir, "err", err)
		}
		if n > 0 {
			a.log.Info("start-up: removed temp files left by an earlier process", "dir", d.dir, "files", n, "bytes", size)
		}
	}
}

// sweepDir removes d's temp files modified before started and returns how
// many it removed and their size. It goes on past a file it cannot remove
// and returns the first such error.
func sweepDir(d tempDir, started time.Time) (n int, size int64, err error) {
	entries, rerr := os.ReadDir(d.dir)
	if errors.Is(rerr, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if rerr != nil {
		return 0, 0, rerr
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !hasPrefix(e.Name(), d.prefixes) {
			continue
		}
		info, ierr := e.Info()
		if ierr != nil || !info.ModTime().Before(started) {
			continue // gone already, or a live writer's
		}
		if rmErr := os.Remove(filepath.Join(d.dir, e.Name())); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
			err = errors.Join(err, rmErr)
			continue
		}
		n, size = n+1, size+info.Size()
	}
	return n, size, err
}

func hasPrefix(name string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
