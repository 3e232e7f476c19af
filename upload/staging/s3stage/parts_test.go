package s3stage_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/upload/staging"
)

// A commit made through one Store is what another Store on the same
// prefix (another replica) reports and resumes from; bytes written after
// the commit on the first replica, never committed, are not seen.
func TestCommitSurvivesAnotherReplica(t *testing.T) {
	b := newBucket(t)
	a, other := b.store(t), b.store(t)
	data := randomBytes(13*mib + 777)
	create(t, a, "r1", int64(len(data)))
	w := writer(t, a, "r1", 0)
	mustWrite(t, w, data[:7*mib+3])
	mustCommit(t, w, 7*mib+1)                         // inside the second part: a tail of 2 MiB+1 in S3
	mustWrite(t, w, bytes.Repeat([]byte("x"), 2*mib)) // never committed, and short of a part
	// The first replica is gone without closing its writer (a crash): what
	// it held in memory is lost. (Two live writers of one upload are the
	// caller's to prevent, as staging.Store says; tus holds a lock.)

	if off := offsetOf(t, other, "r1"); off != 7*mib+1 {
		t.Fatalf("other replica sees offset %d, want %d", off, 7*mib+1)
	}
	_, err := other.NewWriter(ctx, "r1", 7*mib+3)
	wantKind(t, err, imgmgr.KindConflict)
	w2 := writer(t, other, "r1", 7*mib+1)
	mustWrite(t, w2, data[7*mib+1:])
	mustCommit(t, w2, int64(len(data)))
	w2.Close()
	w.Close()
	if got := content(t, a, "r1"); !bytes.Equal(got, data) {
		t.Fatalf("content differs: %d bytes, want %d", len(got), len(data))
	}
}

// An upload of many parts, written in odd-sized writes with commits at odd
// offsets (some one byte behind the written end, as tus makes them), by
// writers that sometimes drop what they wrote past their last commit, are
// sometimes told how much is coming (streaming parts, and sometimes told
// more than comes), and read back (sealed) half-way and then appended to
// again.
func TestManyPartsOddCommits(t *testing.T) {
	b := newBucket(t)
	s := b.store(t)
	data := randomBytes(27*mib + 12345)
	create(t, s, "big", int64(len(data)))
	r := rand.New(rand.NewPCG(1, 2))
	var off int64
	for round := 0; off < int64(len(data)); round++ {
		w := writer(t, s, "big", off)
		end := min(int64(len(data)), off+int64(r.IntN(9*mib)+1))
		if r.IntN(3) > 0 {
			w.(staging.Expecter).Expect(end - off + int64(r.IntN(2)*mib))
		}
		for pos := off; pos < end; {
			n := min(end-pos, int64(r.IntN(1*mib)+1))
			mustWrite(t, w, data[pos:pos+n])
			pos += n
			if r.IntN(3) == 0 && w.Offset() > w.Committed()+1 {
				mustCommit(t, w, w.Offset()-int64(r.IntN(2)))
			}
		}
		commit := w.Offset()
		if ahead := min(w.Offset()-w.Committed(), 4*mib); round%3 == 1 && ahead > 0 {
			commit -= int64(r.IntN(int(ahead))) // drop the rest
		}
		mustCommit(t, w, commit)
		if round%3 == 2 {
			mustWrite(t, w, []byte("dropped by Close"))
		}
		w.Close()
		off = commit
		if got := offsetOf(t, s, "big"); got != off {
			t.Fatalf("round %d: offset %d, want %d", round, got, off)
		}
		if round == 3 {
			if got := content(t, s, "big"); !bytes.Equal(got, data[:off]) {
				t.Fatalf("half-way content differs (%d bytes, want %d)", len(got), off)
			}
		}
	}
	if got := content(t, b.store(t), "big"); !bytes.Equal(got, data) {
		t.Fatalf("content differs: %d bytes, want %d", len(got), len(data))
	}
}

// Concatenation of parts shorter than S3's 5 MiB minimum, of empty parts,
// and of parts with a sealed object and a tail, in every position: the
// short pieces go through memory and the rest is copied server-side.
func TestConcatShortAndLongParts(t *testing.T) {
	b := newBucket(t)
	s := b.store(t)
	sizes := []int{3 * mib, 1, 0, 7*mib + 5, 4*mib + 1, 12 * mib, 5 * mib, 100}
	var ids []string
	var want []byte
	for i, n := range sizes {
		id := fmt.Sprintf("p%d", i)
		p := randomBytes(n + i) // distinct content per part
		p = p[:n]
		create(t, s, id, int64(n))
		if n > 0 {
			w := writer(t, s, id, 0)
			mustWrite(t, w, p)
			mustCommit(t, w, int64(n))
			w.Close()
		}
		if i == 3 {
			content(t, s, id) // seal one part before, to mix sealed and open ones
		}
		ids = append(ids, id)
		want = append(want, p...)
	}
	create(t, s, "final", int64(len(want)))
	if err := s.Concat(ctx, "final", ids); err != nil {
		t.Fatal(err)
	}
	if off := offsetOf(t, s, "final"); off != int64(len(want)) {
		t.Fatalf("final offset %d, want %d", off, len(want))
	}
	if got := content(t, b.store(t), "final"); !bytes.Equal(got, want) {
		t.Fatalf("final content differs: %d bytes, want %d", len(got), len(want))
	}
	if got := content(t, s, "p5"); len(got) != 12*mib {
		t.Fatalf("a part changed: %d bytes", len(got))
	}
}

// A writer told that more bytes were coming than came: the part it was
// streaming is cut short by a commit inside it (the bytes go to a tail)
// and given up by Close; the next writer resumes at the commit.
func TestStreamedPartCutShort(t *testing.T) {
	b := newBucket(t)
	s := b.store(t)
	data := randomBytes(12 * mib)
	create(t, s, "cut", int64(len(data)))
	w := writer(t, s, "cut", 0)
	w.(staging.Expecter).Expect(int64(len(data)))
	mustWrite(t, w, data[:7*mib])
	mustCommit(t, w, 7*mib) // the part [5, 10) MiB is streaming, unfinished
	w.Close()
	w = writer(t, s, "cut", 7*mib)
	w.(staging.Expecter).Expect(5 * mib)
	mustWrite(t, w, data[7*mib:])
	mustCommit(t, w, int64(len(data)))
	w.Close()
	if got := content(t, b.store(t), "cut"); !bytes.Equal(got, data) {
		t.Fatalf("content differs: %d bytes, want %d", len(got), len(data))
	}
}

// OpenWritten reads the committed bytes and the last ones not committed, as
// tus completion needs, giving up a part it was streaming; the writer takes
// no more bytes after it.
func TestOpenWritten(t *testing.T) {
	b := newBucket(t)
	s := b.store(t)
	data := randomBytes(11*mib + 9)
	create(t, s, "ow", int64(len(data)))
	w := writer(t, s, "ow", 0)
	defer w.Close()
	w.(staging.Expecter).Expect(int64(len(data)) + 5*mib) // more than comes: [10, 15) MiB streams
	mustWrite(t, w, data)
	mustCommit(t, w, int64(len(data))-1)
	rc, err := w.(staging.WrittenOpener).OpenWritten(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (err %v), want %d", len(got), err, len(data))
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Fatal("Write after OpenWritten succeeded")
	}
	if off := offsetOf(t, s, "ow"); off != int64(len(data))-1 {
		t.Fatalf("offset %d after OpenWritten, want %d", off, len(data)-1)
	}
}
