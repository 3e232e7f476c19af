package s3stage

import (
	"context"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/upload/staging"
)

// SweepAbandoned implements staging.AbandonSweeper. It aborts the
// multipart uploads under the prefix that no live upload refers to, and
// removes the objects of uploads whose record is gone, when they are older
// than AbandonAfter. A multipart upload is live when its upload's record
// exists, is active and not past its expiry, and ID.state names it. It
// returns how many multipart uploads and uploads' objects it removed.
//
// MinIO lists multipart uploads only per object name, so the uploads are
// found from the objects under the prefix: those of uploads with a layout
// (ID.state) or without a record, one request each; S3 proper also lists
// those of names with no object left. Records without a layout (new,
// completed or expired uploads) cost nothing but the listing.
func (s *Store) SweepAbandoned(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.Add(-s.cfg.AbandonAfter)
	ids, err := s.stagedIDs(ctx)
	if err != nil {
		return 0, err
	}
	var n int
	for id, seen := range ids {
		if seen.record && !seen.layout {
			continue // no bytes staged (new, completed or expired): DeleteData aborted its uploads
		}
		lv := liveness{s: s, id: id, now: now}
		k, err := s.abortUploads(ctx, id, func(up minio.ObjectMultipartInfo) bool {
			return up.Initiated.Before(cutoff) && !lv.live(ctx, up.UploadID)
		})
		n += k
		if err == nil {
			err = lv.err
		}
		if err != nil {
			return n, err
		}
		if seen.objects && !seen.record && seen.newest.Before(cutoff) {
			if err := s.DeleteData(ctx, id); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// staged is what the objects of one upload id say.
type staged struct {
	objects bool      // it has objects, not only multipart uploads
	record  bool      // ID.info exists
	layout  bool      // ID.state exists
	newest  time.Time // the latest modification of its objects
}

// stagedIDs lists the upload ids that have objects or (where S3 lists
// them by prefix) multipart uploads under the prefix.
func (s *Store) stagedIDs(ctx context.Context) (map[string]staged, error) {
	ids := map[string]staged{}
	add := func(key string, t time.Time, object bool) {
		id, _, _ := strings.Cut(strings.TrimPrefix(key, s.cfg.Prefix), ".")
		if !staging.ValidID(id) {
			return
		}
		st := ids[id]
		st.objects = st.objects || object
		st.record = st.record || object && strings.HasSuffix(key, ".info")
		st.layout = st.layout || object && strings.HasSuffix(key, ".state")
		if t.After(st.newest) {
			st.newest = t
		}
		ids[id] = st
	}
	err := s.eachObject(ctx, s.cfg.Prefix, func(o minio.ObjectInfo) error {
		add(o.Key, o.LastModified, true)
		return nil
	})
	if err != nil {
		return nil, err
	}
	keyMarker, idMarker := "", ""
	for {
		rctx, cancel := s.reqCtx(ctx)
		res, err := s.c.ListMultipartUploads(rctx, s.cfg.Bucket, s.cfg.Prefix, keyMarker, idMarker, "", 1000)
		cancel()
		if err != nil {
			return nil, s.mapErr("s3stage.SweepAbandoned", err)
		}
		for _, up := range res.Uploads {
			if _, ok := ids[strings.TrimSuffix(strings.TrimPrefix(up.Key, s.cfg.Prefix), ".bin")]; !ok {
				add(up.Key, time.Time{}, false) // no object at all: only its multipart uploads
			}
		}
		if !res.IsTruncated {
			return ids, nil
		}
		keyMarker, idMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
}

// liveness answers, reading the upload once, whether a multipart upload of
// it is live.
type liveness struct {
	s      *Store
	id     string
	now    time.Time
	loaded bool
	active bool   // the record exists, is active and not expired
	upload string // the multipart upload ID.state names
	err    error
}

func (lv *liveness) live(ctx context.Context, uploadID string) bool {
	if !lv.loaded {
		lv.loaded = true
		u, err := lv.s.readRecord(ctx, lv.id)
		if err != nil {
			if !imgmgr.IsNotFound(err) {
				lv.err = err
			}
			return lv.err != nil // when unsure, keep it
		}
		lv.active = u.State == staging.StateActive && !lv.now.After(u.ExpiresAt)
		l, err := lv.s.readLayout(ctx, lv.id)
		lv.upload, lv.err = l.UploadID, err
	}
	return lv.err != nil || lv.active && lv.upload == uploadID
}
