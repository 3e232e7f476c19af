// Package ws serves GET /api/v1/events: a WebSocket that streams the
// caller's events as JSON text messages.
//
// Browsers cannot set headers on a WebSocket, and a token in the query
// string ends up in logs, so the client authenticates either with a
// subprotocol or with its first message:
//
//	new WebSocket(url, ["imgmgr.v1", "imgmgr.bearer." + token])
//	new WebSocket(url, ["imgmgr.v1"]); then send {"type":"auth","token":"..."}
//
// (an Authorization: Bearer header works too, for other clients). The
// server selects "imgmgr.v1", never echoing the token. Once subscribed it
// sends {"type":"ready"}, then one message per event. A client that does not
// keep up is disconnected (close code 1013), never slowing publishers, and so
// is every client of a bus that lost the connection carrying other replicas'
// events (Redis down: reconnect later); pings keep idle connections open
// through proxies.
package ws

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/events"
)

// Protocol is the subprotocol the server selects; BearerPrefix starts the
// subprotocol that carries the token.
const (
	Protocol     = "imgmgr.v1"
	BearerPrefix = "imgmgr.bearer."
)

// Authenticator turns a bearer token or API key into a principal; an
// invalid one gives a KindUnauthenticated error.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (imgmgr.Principal, error)
}

// Subscriber is the part of events.Bus the endpoint uses.
type Subscriber interface {
	Subscribe(ctx context.Context, userID string) (*events.Subscription, error)
}

// Config configures the endpoint. Zero fields take the defaults.
type Config struct {
	// OriginPatterns are the browser origins allowed besides the request's
	// own host (path.Match patterns of host[:port], e.g. "app.example.org").
	OriginPatterns []string
	PingEvery      time.Duration // default 25s
	WriteTimeout   time.Duration // per message and per ping; default 10s
	AuthTimeout    time.Duration // for the first-message token; default 10s
}

func (c *Config) setDefaults() {
	if c.PingEvery == 0 {
		c.PingEvery = 25 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.AuthTimeout == 0 {
		c.AuthTimeout = 10 * time.Second
	}
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.PingEvery < 0 || c.WriteTimeout < 0 || c.AuthTimeout < 0 {
		return errors.New("events ws: durations must be positive")
	}
	return nil
}

// Handler is the WebSocket endpoint.
type Handler struct {
	cfg  Config
	bus  Subscriber
	auth Authenticator
	log  *slog.Logger
}

// New returns the endpoint.
func New(cfg Config, bus Subscriber, auth Authenticator, log *slog.Logger) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if bus == nil || auth == nil {
		return nil, errors.New("events ws: a bus and an authenticator are required")
	}
	if log == nil {
		log = slog.Default()
	}
	cfg.setDefaults()
	return &Handler{cfg: cfg, bus: bus, auth: auth, log: log}, nil
}

// Serve upgrades the request and streams events until the client leaves.
// Errors before the upgrade (a bad token) are returned for the caller to
// write; after it, the connection is closed with a WebSocket close code.
// Mount it without the API's authentication: it authenticates itself.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request) error {
	token := requestToken(r)
	var p imgmgr.Principal
	if token != "" {
		var err error
		if p, err = h.auth.Authenticate(r.Context(), token); err != nil {
			return err
		}
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{Protocol},
		OriginPatterns: h.cfg.OriginPatterns})
	if err != nil {
		return nil // Accept wrote the refusal
	}
	defer c.CloseNow()
	ctx := r.Context()
	if token == "" {
		if p, err = h.firstMessageAuth(ctx, c); err != nil {
			c.Close(websocket.StatusPolicyViolation, "authentication failed")
			return nil
		}
	}
	h.stream(ctx, c, p)
	return nil
}

// requestToken finds a token in the subprotocols or the Authorization header.
func requestToken(r *http.Request) string {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, proto := range strings.Split(v, ",") {
			if tok, ok := strings.CutPrefix(strings.TrimSpace(proto), BearerPrefix); ok && tok != "" {
				return tok
			}
		}
	}
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok)
	}
	return ""
}

type authMessage struct {
	Type  string `json:"type"`
	Token string `json:"token"`
}

func (h *Handler) firstMessageAuth(ctx context.Context, c *websocket.Conn) (imgmgr.Principal, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.AuthTimeout)
	defer cancel()
	c.SetReadLimit(8 << 10)
	typ, b, err := c.Read(ctx)
	if err != nil {
		return imgmgr.Principal{}, err
	}
	var m authMessage
	if typ != websocket.MessageText || json.Unmarshal(b, &m) != nil || m.Type != "auth" || m.Token == "" {
		return imgmgr.Principal{}, errors.New("the first message must be {\"type\":\"auth\",\"token\":...}")
	}
	return h.auth.Authenticate(ctx, m.Token)
}

// stream sends the principal's events until the client leaves, the
// subscription is dropped or the server shuts down.
func (h *Handler) stream(ctx context.Context, c *websocket.Conn, p imgmgr.Principal) {
	ctx = c.CloseRead(ctx) // reads control frames; done when the client closes
	sub, err := h.bus.Subscribe(ctx, p.UserID)
	if err != nil {
		c.Close(websocket.StatusTryAgainLater, "events unavailable")
		return
	}
	defer sub.Close()
	if h.write(ctx, c, map[string]string{"type": "ready"}) != nil {
		return
	}
	ping := time.NewTicker(h.cfg.PingEvery)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-sub.Events():
			if !ok {
				reason := "too slow; reconnect"
				if !errors.Is(sub.Err(), events.ErrSlowConsumer) {
					reason = "events unavailable; reconnect"
				}
				c.Close(websocket.StatusTryAgainLater, reason)
				return
			}
			if h.write(ctx, c, ev) != nil {
				return
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, h.cfg.WriteTimeout)
			err := c.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
		}
	}
}

func (h *Handler) write(ctx context.Context, c *websocket.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.WriteTimeout)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, b)
}
