package tus_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/cluster"
	"github.com/imgmgr/imgmgr/events"
	"github.com/imgmgr/imgmgr/events/eventstest"
	"github.com/imgmgr/imgmgr/events/ws"
	"github.com/imgmgr/imgmgr/httpapi"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/upload/staging"
	"github.com/imgmgr/imgmgr/upload/tus"
)

// testTokens stands in for auth.Service: token "tok-<user>" is <user>.
type testTokens struct{}

func (testTokens) Authenticate(ctx context.Context, tok string) (imgmgr.Principal, error) {
	if u, ok := strings.CutPrefix(tok, "tok-"); ok {
		return imgmgr.Principal{UserID: u, Username: u}, nil
	}
	return imgmgr.Principal{}, imgmgr.Errorf(imgmgr.KindUnauthenticated, "unauthenticated", "invalid token")
}

// replica is one server: tus at /api/v1/uploads/ and the WebSocket at
// /api/v1/events, both on bus.
func replica(t *testing.T, bus events.Bus) *env {
	t.Helper()
	dir := t.TempDir()
	store, err := staging.NewLocal(staging.LocalConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: store, dir: dir, ingest: &fakeIngest{events: bus}, events: &recorder{}, clock: &clock{t: time.Now()}}
	e.h, err = tus.New(context.Background(), tus.Config{ProgressEvery: time.Nanosecond}, tus.Deps{Store: store, Ingest: e.ingest, Events: bus})
	if err != nil {
		t.Fatal(err)
	}
	wsh, err := ws.New(ws.Config{}, bus, testTokens{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := e.h.Serve
		if r.URL.Path == "/api/v1/events" {
			h = wsh.Serve
		} else if u := r.Header.Get("X-Test-User"); u != "" {
			r = r.WithContext(imgmgr.WithPrincipal(r.Context(), imgmgr.Principal{UserID: u}))
		}
		if err := h(w, r); err != nil {
			httpapi.WriteError(w, r, log, err)
		}
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func watch(t *testing.T, e *env, user string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/api/v1/events",
		&websocket.DialOptions{Subprotocols: []string{ws.Protocol, ws.BearerPrefix + "tok-" + user}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	if ev := readEvent(t, c); ev.Type != "ready" {
		t.Fatalf("first message %+v", ev)
	}
	return c
}

func readEvent(t *testing.T, c *websocket.Conn) imgmgr.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var ev imgmgr.Event
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// upload sends data in three PATCHes as user and returns the upload id.
func upload(t *testing.T, e *env, user string, data []byte) string {
	t.Helper()
	u := e.create(int64(len(data)), "X-Test-User", user)
	third := len(data) / 3
	for _, cut := range [][2]int{{0, third}, {third, 2 * third}, {2 * third, len(data)}} {
		wantStatus(t, e.patch(u, int64(cut[0]), data[cut[0]:cut[1]], "X-Test-User", user), http.StatusNoContent)
	}
	return u[strings.LastIndex(u, "/")+1:]
}

// expectLifecycle reads created, progress..., completed for upload id.
func expectLifecycle(t *testing.T, c *websocket.Conn, id string, length int64) {
	t.Helper()
	ev := readEvent(t, c)
	if ev.Type != imgmgr.EventUploadCreated || ev.UploadID != id || ev.Length != length {
		t.Fatalf("first event %+v, want upload.created of %s", ev, id)
	}
	var last int64
	for {
		ev = readEvent(t, c)
		if ev.UploadID != id {
			t.Fatalf("event of another upload: %+v", ev)
		}
		if ev.Type == imgmgr.EventUploadCompleted {
			break
		}
		if ev.Type != imgmgr.EventUploadProgress || ev.Offset < last || ev.Length != length {
			t.Fatalf("unexpected %+v after offset %d", ev, last)
		}
		last = ev.Offset
	}
	if last == 0 || ev.ImageID == "" {
		t.Fatalf("no progress before completion, or no image id: last offset %d, %+v", last, ev)
	}
}

func TestEventsOverWebSocket(t *testing.T) {
	bus, err := events.NewLocal(events.LocalConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	e := replica(t, bus)
	c := watch(t, e, "alice")
	upload(t, e, "bob", payload(30000)) // bob's events never reach alice
	id := upload(t, e, "alice", payload(30000))
	expectLifecycle(t, c, id, 30000)
}

// Two replicas sharing one Redis: alice watches on one and uploads
// through the other.
func TestEventsAcrossReplicasThroughRedis(t *testing.T) {
	url := testenv.RedisURL(t)
	prefix := eventstest.Unique(t)
	newBus := func() events.Bus {
		b, err := openCluster(t, url, prefix).NewBus(context.Background(), cluster.BusConfig{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	a, b := replica(t, newBus()), replica(t, newBus())
	c := watch(t, a, "alice")
	upload(t, b, "bob", payload(30000))
	id := upload(t, b, "alice", payload(30000))
	expectLifecycle(t, c, id, 30000)
}
