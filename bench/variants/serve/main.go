// Command serve runs imgmgr's variant delivery for bench/variants: it
// makes a 12 MP JPEG (the 6 MP test photo upscaled with libvips), stores
// it as an original in a temporary SQLite + local blob store, and serves
// /img/ twice: with the variant cache off (cold: every request renders)
// and on (warm). It prints -case flags for bench/variants and its pid.
//
//	go run ./bench/variants/serve -cold 127.0.0.1:9100 -warm 127.0.0.1:9101
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/blob/localfs"
	"github.com/imgmgr/imgmgr/delivery"
	"github.com/imgmgr/imgmgr/meta/sqlite"
	"github.com/imgmgr/imgmgr/variant"
	"github.com/imgmgr/imgmgr/vips"
)

func main() {
	src := flag.String("image", "testdata/images/photo/2569067123_aca715a2ee_o.jpg", "photo to upscale")
	cold := flag.String("cold", "127.0.0.1:9100", "listen address with the cache off")
	warm := flag.String("warm", "127.0.0.1:9101", "listen address with the cache on")
	conc := flag.Int("render-concurrency", 0, "renders at once (0 = cores)")
	queue := flag.Int("render-queue", 256, "renders waiting before 503")
	out := flag.String("write-jpeg", "", "also write the 12 MP JPEG here (for vipsthumbnail/imgproxy)")
	flag.Parse()
	must(vips.Startup(vips.Config{}))
	dir, err := os.MkdirTemp("", "imgmgr-bench-")
	must(err)
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "meta.db"))
	must(err)
	bs, err := localfs.New(filepath.Join(dir, "blobs"))
	must(err)
	big := upscale(*src)
	if *out != "" {
		must(os.WriteFile(*out, big, 0o644))
	}
	im := store(ctx, st, bs, big)
	key := variant.Key{Key: hex.EncodeToString([]byte("bench-key")), Salt: hex.EncodeToString([]byte("bench-salt"))}
	for i, addr := range []string{*cold, *warm} {
		cfg := delivery.Config{Keys: []variant.Key{key}, CacheDisabled: i == 0, RenderConcurrency: *conc, RenderQueue: *queue}
		svc, err := delivery.New(cfg, delivery.Deps{Images: st, Variants: st, Blobs: bs})
		must(err)
		mode := []string{"cold", "warm"}[i]
		for _, ext := range []string{"jpg", "webp"} {
			// Cold: 64 distinct sizes around 800 px, so that concurrent
			// requests are neither cached nor coalesced; warm: one URL.
			var urls []string
			for k := -32; k < 32; k++ {
				if mode == "warm" && k != 0 {
					continue
				}
				p, err := svc.Signer().Sign(fmt.Sprintf("rs:fit:%d:%d", 800+k, 800+k), im.ID, ext, 0)
				must(err)
				urls = append(urls, "http://"+addr+p)
			}
			fmt.Printf("-case 'imgmgr-%s-%s=%s' ", mode, ext, strings.Join(urls, "|"))
		}
		go func() {
			log.Fatal(http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := svc.ServeVariant(w, r); err != nil {
					http.Error(w, imgmgr.CodeOf(err), 500)
				}
			})))
		}()
	}
	fmt.Printf("-pid %d\n", os.Getpid())
	select {}
}

// upscale makes the 12 MP benchmark JPEG (3840×3136).
func upscale(path string) []byte {
	s, err := vips.SourceFile(path)
	must(err)
	defer s.Close()
	im, err := vips.Thumbnail(s, vips.ThumbnailOptions{Width: 3840, Height: 3136, Size: vips.SizeForce})
	must(err)
	defer im.Close()
	b, err := im.Save(context.Background(), "jpeg", vips.SaveOptions{Quality: 90, Strip: true})
	must(err)
	return b
}

func store(ctx context.Context, st *sqlite.Store, bs *localfs.Store, b []byte) *imgmgr.Image {
	hdr, err := vips.ProbeBuffer(b)
	must(err)
	sum := sha256.Sum256(b)
	sha := hex.EncodeToString(sum[:])
	_, err = bs.Put(ctx, blob.OriginalKey(sha), bytes.NewReader(b))
	must(err)
	u := &imgmgr.User{Username: "bench", Role: imgmgr.RoleUser, PasswordHash: "x"}
	must(st.CreateUser(ctx, u))
	im := &imgmgr.Image{OwnerID: u.ID, SHA256: sha, Size: int64(len(b)), Header: hdr, Filename: "big.jpg", Visibility: imgmgr.Public}
	must(st.CreateImage(ctx, im))
	return im
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
