package ws_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/events"
	"github.com/imgmgr/imgmgr/events/ws"
)

// tokens stands in for auth.Service (not part of this package's world):
// token "tok-<user>" is user <user>.
type tokens struct{}

func (tokens) Authenticate(ctx context.Context, tok string) (imgmgr.Principal, error) {
	if u, ok := strings.CutPrefix(tok, "tok-"); ok && u != "" {
		return imgmgr.Principal{UserID: u, Username: u, Role: imgmgr.RoleUser}, nil
	}
	return imgmgr.Principal{}, imgmgr.Errorf(imgmgr.KindUnauthenticated, "unauthenticated", "invalid token")
}

func newServer(t *testing.T, bus events.Bus, cfg ws.Config) *httptest.Server {
	t.Helper()
	h, err := ws.New(cfg, bus, tokens{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.Serve(w, r); err != nil {
			w.WriteHeader(http.StatusUnauthorized) // httpapi maps the kind in production
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newBus(t *testing.T, buffer int) *events.Local {
	b, err := events.NewLocal(events.LocalConfig{Buffer: buffer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Dial connects with the given subprotocols and waits for "ready".
func dial(t *testing.T, srv *httptest.Server, protocols []string, first string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{Subprotocols: protocols})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { c.CloseNow() })
	if c.Subprotocol() != ws.Protocol {
		t.Fatalf("subprotocol %q, want %q", c.Subprotocol(), ws.Protocol)
	}
	if first != "" {
		if err := c.Write(ctx, websocket.MessageText, []byte(first)); err != nil {
			t.Fatal(err)
		}
	}
	if m := read(t, c); m["type"] != "ready" {
		t.Fatalf("first message %v, want ready", m)
	}
	return c
}

func read(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAuthAndOwnEventsOnly(t *testing.T) {
	bus := newBus(t, 64)
	srv := newServer(t, bus, ws.Config{})
	for _, tt := range []struct {
		name      string
		protocols []string
		first     string
	}{
		{"subprotocol", []string{ws.Protocol, ws.BearerPrefix + "tok-alice"}, ""},
		{"first message", []string{ws.Protocol}, `{"type":"auth","token":"tok-alice"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, srv, tt.protocols, tt.first)
			bus.Publish(context.Background(), imgmgr.Event{Type: imgmgr.EventUploadProgress, UserID: "bob", UploadID: "b1"})
			bus.Publish(context.Background(), imgmgr.Event{Type: imgmgr.EventUploadCompleted, UserID: "alice", UploadID: "a1", ImageID: "img9"})
			m := read(t, c)
			if m["type"] != "upload.completed" || m["upload_id"] != "a1" || m["image_id"] != "img9" {
				t.Fatalf("got %v, want alice's completion only", m)
			}
		})
	}
}

func TestAuthRefusals(t *testing.T) {
	srv := newServer(t, newBus(t, 64), ws.Config{AuthTimeout: time.Second})
	ctx := context.Background()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	// A bad token in the subprotocol is refused before the upgrade.
	_, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{ws.Protocol, ws.BearerPrefix + "wrong"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad subprotocol token: err %v, resp %v; want 401", err, resp)
	}
	for _, first := range []string{`{"type":"auth","token":"wrong"}`, `hello`, ``} {
		c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{ws.Protocol}})
		if err != nil {
			t.Fatal(err)
		}
		if first != "" {
			c.Write(ctx, websocket.MessageText, []byte(first))
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, _, err = c.Read(rctx)
		defer cancel()
		// Silence ends in a timeout that drops the connection; a wrong
		// message gets the policy-violation close.
		if first == "" && err != nil && rctx.Err() == nil {
			c.CloseNow()
			continue
		}
		if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Fatalf("first message %q: %v, want close 1008", first, err)
		}
		c.CloseNow()
	}
}

func TestForeignOriginRefused(t *testing.T) {
	srv := newServer(t, newBus(t, 64), ws.Config{OriginPatterns: []string{"app.example.org"}})
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	for origin, ok := range map[string]bool{"https://evil.example": false, "https://app.example.org": true} {
		h := http.Header{"Origin": {origin}}
		c, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPHeader: h,
			Subprotocols: []string{ws.Protocol, ws.BearerPrefix + "tok-a"}})
		if (err == nil) != ok {
			t.Fatalf("origin %s: err %v", origin, err)
		}
		if c != nil {
			c.CloseNow()
		}
	}
}

// A client that reads nothing is disconnected once its buffer overflows,
// and the publisher never waits for it.
func TestSlowClientDropped(t *testing.T) {
	bus := newBus(t, 16)
	srv := newServer(t, bus, ws.Config{WriteTimeout: time.Second})
	c := dial(t, srv, []string{ws.Protocol, ws.BearerPrefix + "tok-slow"}, "")
	big := strings.Repeat("x", 64<<10) // fills socket buffers quickly
	for i := 0; i < 2000; i++ {
		if err := bus.Publish(context.Background(), imgmgr.Event{Type: "upload.progress", UserID: "slow", Message: big}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	for err == nil {
		_, _, err = c.Read(ctx)
	}
	if ctx.Err() != nil {
		t.Fatal("the slow client was never disconnected")
	}
}
