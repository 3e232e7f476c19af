package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", to hold a lock from outside

	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// Regression (issue 10, item 3): with the database unreachable, login,
// /me, the listing, uploads, refresh and tus creation answered 500
// internal without Retry-After. Connection-class failures are now 503
// database_unavailable with Retry-After, on both backends, each made
// unavailable for real.
func TestDatabaseDownIs503(t *testing.T) {
	t.Run("postgres refusing connections", func(t *testing.T) {
		proxy := testenv.NewProxy(t, hostPort(t, testenv.PostgresURL(t)))
		ts := startServer(t, func(c *config.Config) { c.Database.URL = viaProxy(t, testenv.PostgresSchemaURL(t), proxy.Addr()) })
		before := ts.prepareOutage(t)
		proxy.Cut() // open connections reset, new ones refused
		ts.expectUnavailable(t, before, allRoutes)
	})
	t.Run("postgres terminating and not accepting connections", func(t *testing.T) {
		admin, dbURL := ownDatabase(t)
		ts := startServer(t, func(c *config.Config) { c.Database.URL = dbURL })
		before := ts.prepareOutage(t)
		name := dbName(t, dbURL)
		mustExec(t, admin, `ALTER DATABASE `+name+` ALLOW_CONNECTIONS false`)
		mustExec(t, admin, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '`+name+`'`) // 57P01 admin_shutdown
		ts.expectUnavailable(t, before, allRoutes)
	})
	t.Run("postgres too many connections", func(t *testing.T) {
		admin, dbURL := ownDatabase(t)
		role := dbName(t, dbURL) + "_role"
		mustExec(t, admin, `CREATE ROLE `+role+` LOGIN`)
		t.Cleanup(func() { // before ownDatabase's cleanup: the role owns the database
			mustExec(t, admin, `DROP DATABASE IF EXISTS `+dbName(t, dbURL)+` WITH (FORCE)`)
			mustExec(t, admin, `DROP ROLE IF EXISTS `+role)
		})
		mustExec(t, admin, `ALTER DATABASE `+dbName(t, dbURL)+` OWNER TO `+role)
		u, _ := url.Parse(dbURL)
		u.User = url.User(role)
		ts := startServer(t, func(c *config.Config) { c.Database.URL = u.String() })
		before := ts.prepareOutage(t)
		mustExec(t, admin, `ALTER ROLE `+role+` CONNECTION LIMIT 0`)                                            // new sessions: 53300
		mustExec(t, admin, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '`+role+`'`) // open ones: 57P01
		ts.expectUnavailable(t, before, allRoutes)
	})
	t.Run("sqlite locked past busy_timeout", func(t *testing.T) {
		ts := startServer(t, func(c *config.Config) { c.Database.BusyTimeout = config.Duration(200 * time.Millisecond) })
		before := ts.prepareOutage(t)
		holdWriteLock(t, filepath.Join(ts.dir, "imgmgr.db"))
		// Readers of a WAL database never wait for a writer: /me, the
		// listing and tus creation (which only reads) keep working; every
		// route that writes is 503.
		ts.expectUnavailable(t, before, []string{"login", "upload", "refresh"})
		for _, path := range []string{"/api/v1/me", "/api/v1/images"} {
			ts.doJSON("GET", path, ts.token, nil, 200, nil)
		}
	})
}

// outage is what the routes need that must be got while the database is up.
type outage struct {
	refresh string
	photo   []byte
}

func (ts *testServer) prepareOutage(t *testing.T) outage {
	t.Helper()
	var tok struct {
		RefreshToken string `json:"refresh_token"`
	}
	ts.doJSON("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": adminPassword}, 200, &tok)
	return outage{refresh: tok.RefreshToken, photo: testenv.ReadImage(t, "photo/concert.jpg")}
}

var allRoutes = []string{"login", "me", "list", "upload", "refresh", "tus creation"}

// expectUnavailable sends each named route's request and wants 503
// database_unavailable with Retry-After.
func (ts *testServer) expectUnavailable(t *testing.T, o outage, routes []string) {
	t.Helper()
	jsonBody := func(v any) io.Reader { b, _ := json.Marshal(v); return bytes.NewReader(b) }
	for _, route := range routes {
		var method, path, token string
		var body io.Reader
		hdr := map[string]string{"Content-Type": "application/json"}
		switch route {
		case "login":
			method, path, body = "POST", "/api/v1/auth/login", jsonBody(map[string]string{"username": "admin", "password": adminPassword})
		case "me":
			method, path, token = "GET", "/api/v1/me", ts.token
		case "list":
			method, path, token = "GET", "/api/v1/images", ts.token
		case "upload":
			var ct string
			body, ct = multipartBody(t, nil, filePart{"a.jpg", o.photo})
			method, path, token, hdr = "POST", "/api/v1/images", ts.token, map[string]string{"Content-Type": ct}
		case "refresh":
			method, path, body = "POST", "/api/v1/auth/refresh", jsonBody(map[string]string{"refresh_token": o.refresh})
		case "tus creation":
			method, path, token = "POST", "/api/v1/uploads/", ts.token
			hdr = map[string]string{"Tus-Resumable": "1.0.0", "Upload-Length": strconv.Itoa(len(o.photo))}
		}
		resp := ts.do(method, path, token, body, hdr)
		ra := resp.Header.Get("Retry-After")
		if resp.StatusCode < 400 {
			resp.Body.Close()
			t.Errorf("%s with the database down: %d; want 503 database_unavailable with Retry-After", route, resp.StatusCode)
			continue
		}
		code := errorCode(t, resp)
		if resp.StatusCode != 503 || ra == "" || code != "database_unavailable" {
			t.Errorf("%s with the database down: %d %s, Retry-After %q; want 503 database_unavailable with Retry-After",
				route, resp.StatusCode, code, ra)
		}
	}
}

func hostPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func viaProxy(t *testing.T, raw, addr string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

func dbName(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path[1:]
}

// ownDatabase creates a database of the test's own on the real server,
// dropped at the end, and returns an admin connection (to the server's
// default database) and the new database's URL.
func ownDatabase(t *testing.T) (*sql.DB, string) {
	t.Helper()
	base := testenv.PostgresURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "imgmgr_down_" + hex.EncodeToString(b)
	mustExec(t, admin, `CREATE DATABASE `+name)
	t.Cleanup(func() {
		mustExec(t, admin, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		admin.Close()
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return admin, u.String()
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// holdWriteLock takes SQLite's write lock on the file from a connection of
// its own (as another process would) and keeps it until the test ends.
func holdWriteLock(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.ExecContext(ctx, `ROLLBACK`); conn.Close(); db.Close() })
}

// Issue 10 item 3: while the database is away, variants already in the
// blob cache are still served (from an in-process index of recent image
// records); a variant that would need rendering is 503 with Retry-After.
func TestCachedVariantsServedWhileDatabaseDown(t *testing.T) {
	proxy := testenv.NewProxy(t, hostPort(t, testenv.PostgresURL(t)))
	ts := startServer(t, func(c *config.Config) {
		c.Database.URL = viaProxy(t, testenv.PostgresSchemaURL(t), proxy.Addr())
		c.Delivery.EagerPresets = nil
	})
	_, up := ts.upload(ts.token, nil, filePart{"a.jpg", testenv.ReadImage(t, "photo/concert.jpg")})
	id := up.Results[0].Image.ID
	var signed struct{ URLs []string }
	ts.doJSON("POST", "/api/v1/images/"+id+"/urls", ts.token, map[string]any{"variants": []string{"rs:fit:200:0@webp", "rs:fit:300:0@webp"}}, 200, &signed)
	warm := ts.do("GET", signed.URLs[0], "", nil, nil)
	want := readAll(t, warm)
	if warm.StatusCode != 200 {
		t.Fatalf("warming: %d", warm.StatusCode)
	}
	proxy.Cut()
	resp := ts.do("GET", signed.URLs[0], "", nil, nil)
	if b := readAll(t, resp); resp.StatusCode != 200 || !bytes.Equal(b, want) {
		t.Fatalf("cached variant with the database down: %d", resp.StatusCode)
	}
	resp = ts.do("GET", signed.URLs[1], "", nil, nil)
	readAll(t, resp)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("cold variant with the database down: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
