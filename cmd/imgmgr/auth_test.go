package main

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

func TestLoginAndTokens(t *testing.T) {
	ts := startServer(t)
	resp := ts.do("POST", "/api/v1/auth/login", "", strings.NewReader(`{"username":"admin","password":"wrong-password"}`), nil)
	if resp.StatusCode != 401 || errorCode(t, resp) != "invalid_credentials" {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	resp = ts.do("POST", "/api/v1/auth/login", "", strings.NewReader(`{"username":"nobody","password":"wrong-password"}`), nil)
	if resp.StatusCode != 401 || errorCode(t, resp) != "invalid_credentials" {
		t.Fatalf("unknown user: %d", resp.StatusCode)
	}

	parts := strings.Split(ts.token, ".")
	sig := []byte(parts[2])
	sig[3] ^= 1
	tampered := parts[0] + "." + parts[1] + "." + string(sig)
	claims := decodeSegment(t, parts[1])
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString([]byte("another key of thirty-two bytes!"))
	expiredClaims := jwt.MapClaims(claims)
	expiredClaims["exp"] = time.Now().Add(-time.Hour).Unix()
	key, err := jwtKey(ts.app.cfg)
	if err != nil {
		t.Fatal(err)
	}
	expired, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, expiredClaims).SignedString(key)
	otherAud := jwt.MapClaims(decodeSegment(t, parts[1]))
	otherAud["aud"] = "someone-else"
	wrongAud, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, otherAud).SignedString(key)
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims(decodeSegment(t, parts[1]))).SignedString(key)
	for name, tok := range map[string]string{"tampered": tampered, "alg none": none, "other key": forged,
		"expired": expired, "wrong audience": wrongAud, "HS512": hs512, "garbage": "not-a-token", "unknown api key": "imk_nope"} {
		resp := ts.do("GET", "/api/v1/images", tok, nil, nil)
		if resp.StatusCode != 401 {
			t.Errorf("%s token: status %d, want 401", name, resp.StatusCode)
		}
		resp.Body.Close()
	}
	resp = ts.do("GET", "/api/v1/images", "", nil, nil)
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	var m map[string]any
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := jsonUnmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRefreshRotationAndReuse(t *testing.T) {
	ts := startServer(t)
	var first struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	ts.doJSON("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": adminPassword}, 200, &first)
	var second struct {
		RefreshToken string `json:"refresh_token"`
	}
	ts.doJSON("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken}, 200, &second)
	// Replaying the rotated token revokes the whole family, the new one too.
	ts.doJSON("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken}, 401, nil)
	ts.doJSON("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": second.RefreshToken}, 401, nil)

	var third struct {
		RefreshToken string `json:"refresh_token"`
	}
	ts.doJSON("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": adminPassword}, 200, &third)
	ts.doJSON("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": third.RefreshToken}, 204, nil)
	ts.doJSON("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": third.RefreshToken}, 401, nil)
}

func TestPasswordChangeInvalidatesTokens(t *testing.T) {
	ts := startServer(t)
	tok := ts.newUser("carol")
	var me struct{ ID string }
	ts.doJSON("GET", "/api/v1/me", tok, nil, 200, &me)
	ts.doJSON("PATCH", "/api/v1/users/"+me.ID, tok, map[string]string{"password": "a-new-password", "current_password": "password-of-carol"}, 200, nil)
	ts.doJSON("GET", "/api/v1/me", tok, nil, 401, nil)
	ts.login("carol", "a-new-password")
}

func TestUsersCannotTouchOthersImages(t *testing.T) {
	ts := startServer(t)
	alice, bob := ts.newUser("alice"), ts.newUser("bob")
	_, out := ts.upload(alice, nil, filePart{"a.jpg", testenv.ReadImage(t, "photo/concert.jpg")})
	id := out.Results[0].Image.ID
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/images/" + id}, {"GET", "/api/v1/images/" + id + "/original"},
		{"PATCH", "/api/v1/images/" + id}, {"DELETE", "/api/v1/images/" + id},
	} {
		var body any
		if c.method == "PATCH" {
			body = map[string]string{"title": "mine now"}
		}
		ts.doJSON(c.method, c.path, bob, body, 404, nil)
	}
	var res struct {
		Results []struct{ Status string } `json:"results"`
	}
	ts.doJSON("POST", "/api/v1/images/batch", bob, map[string]any{"action": "delete", "ids": []string{id}}, 200, &res)
	if res.Results[0].Status != "error" {
		t.Fatal("bob batch-deleted alice's image")
	}
	var list struct {
		Images []struct{ ID string } `json:"images"`
	}
	ts.doJSON("GET", "/api/v1/images", bob, nil, 200, &list)
	if len(list.Images) != 0 {
		t.Fatalf("bob lists %d of alice's images", len(list.Images))
	}
	ts.doJSON("GET", "/api/v1/images/"+id, alice, nil, 200, nil)
	ts.doJSON("GET", "/api/v1/images/"+id, ts.token, nil, 200, nil) // admin sees all
	ts.doJSON("GET", "/api/v1/users", bob, nil, 403, nil)
}

func TestAPIKeys(t *testing.T) {
	ts := startServer(t)
	var created struct {
		Key    string              `json:"key"`
		APIKey struct{ ID string } `json:"api_key"`
	}
	ts.doJSON("POST", "/api/v1/apikeys", ts.token, map[string]string{"name": "ci"}, 201, &created)
	if !strings.HasPrefix(created.Key, "imk_") {
		t.Fatalf("key %q", created.Key)
	}
	ts.doJSON("GET", "/api/v1/images", created.Key, nil, 200, nil)
	ts.doJSON("DELETE", "/api/v1/apikeys/"+created.APIKey.ID, ts.token, nil, 204, nil)
	ts.doJSON("GET", "/api/v1/images", created.Key, nil, 401, nil)
}

// Regression: an upload's album field was looked up as an id first, and an
// id of someone else's album answered 404 while an unknown id made an album
// of that name (201): the difference told anyone that the id existed. Another
// user's album id must behave exactly like an unknown one.
func TestUploadToOthersAlbumRevealsNothing(t *testing.T) {
	ts := startServer(t)
	alice, bob := ts.newUser("alice"), ts.newUser("bob")
	var album struct{ ID string }
	ts.doJSON("POST", "/api/v1/albums", alice, map[string]string{"name": "private trip"}, 201, &album)
	img := testenv.ReadImage(t, "photo/concert.jpg")
	for _, name := range []string{album.ID, "0190d5e0-0000-7000-8000-000000000000"} {
		status, out := ts.upload(bob, map[string]string{"album": name}, filePart{"a.jpg", img})
		if status != 201 || out.Results[0].Image == nil {
			t.Fatalf("album %q: %d %+v", name, status, out)
		}
	}
	var albums struct {
		Albums []struct {
			ID    string
			Count int
		} `json:"albums"`
	}
	ts.doJSON("GET", "/api/v1/albums", alice, nil, 200, &albums)
	if len(albums.Albums) != 1 || albums.Albums[0].Count != 0 {
		t.Fatalf("alice's albums after bob's uploads: %+v", albums)
	}
}

// Regression: an admin could PATCH their own role to "user"; the only admin
// of an instance thereby locked everyone out of user management (deleting
// oneself was already refused, demoting oneself was not).
func TestAdminCannotDemoteSelf(t *testing.T) {
	ts := startServer(t)
	var me struct{ ID string }
	ts.doJSON("GET", "/api/v1/me", ts.token, nil, 200, &me)
	ts.doJSON("PATCH", "/api/v1/users/"+me.ID, ts.token, map[string]string{"role": "user"}, 409, nil)
	ts.doJSON("GET", "/api/v1/users", ts.token, nil, 200, nil)
	ts.doJSON("PATCH", "/api/v1/users/"+me.ID, ts.token, map[string]string{"role": "admin"}, 200, nil)
}

// TestAdminOwnPasswordNeedsCurrent pins a hole: an admin's own password
// could be changed with the access token alone, without the current one.
func TestAdminOwnPasswordNeedsCurrent(t *testing.T) {
	ts := startServer(t)
	var me struct{ ID string }
	ts.doJSON("GET", "/api/v1/me", ts.token, nil, 200, &me)
	ts.doJSON("PATCH", "/api/v1/users/"+me.ID, ts.token, map[string]string{"password": "stolen-token-pw"}, 403, nil)
	ts.doJSON("PATCH", "/api/v1/users/"+me.ID, ts.token, map[string]string{"password": "new-admin-password", "current_password": adminPassword}, 200, nil)
	ts.token = ts.login("admin", "new-admin-password") // the change revoked the old token
	// An admin still resets another user's password without knowing it.
	ts.newUser("dora")
	var users struct {
		Users []struct{ ID, Username string }
	}
	tok := ts.token
	ts.doJSON("GET", "/api/v1/users", tok, nil, 200, &users)
	for _, u := range users.Users {
		if u.Username == "dora" {
			ts.doJSON("PATCH", "/api/v1/users/"+u.ID, tok, map[string]string{"password": "reset-by-admin"}, 200, nil)
		}
	}
	ts.login("dora", "reset-by-admin")
}
