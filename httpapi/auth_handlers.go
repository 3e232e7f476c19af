package httpapi

import (
	"bufio"
	"net/http"
	"strings"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/auth"
)

var errNoRoute = imgmgr.Errorf(imgmgr.KindNotFound, "no_route", "no such API route")

// login takes {"username","password"} as JSON; see formTypedJSON for the
// one other type it accepts.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeJSON(formTypedJSON(r), &in); err != nil {
		return err
	}
	ctx, ip, lock := r.Context(), s.ClientIP(r), s.deps.Limits.Lockout
	if err := s.take(ctx, w, s.deps.Limits.Login, "login:"+ip, 1); err != nil {
		return err
	}
	if lock != nil {
		if err := lock.Check(ctx, in.Username, ip); err != nil {
			return err
		}
	}
	t, err := s.deps.Auth.Login(ctx, in.Username, in.Password)
	if lock != nil && imgmgr.CodeOf(err) == "invalid_credentials" {
		if _, ferr := lock.Failure(ctx, in.Username, ip); ferr != nil {
			s.log.WarnContext(ctx, "recording a failed login", "err", ferr)
		}
	}
	if err != nil {
		return err
	}
	if lock != nil {
		_ = lock.Success(ctx, in.Username, ip) // a stale counter only delays the next failures
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

type refreshBody struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *Server) refresh(w http.ResponseWriter, r *http.Request) error {
	var in refreshBody
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, err := s.deps.Auth.Refresh(r.Context(), in.RefreshToken)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	var in refreshBody
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.deps.Auth.Logout(r.Context(), in.RefreshToken); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	u, err := s.deps.Meta.FindUserByID(r.Context(), principal(r).UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	us, err := s.deps.Meta.ListUsers(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": us})
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Username string      `json:"username"`
		Password string      `json:"password"`
		Role     imgmgr.Role `json:"role"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u, err := s.deps.Auth.CreateUser(r.Context(), in.Username, in.Password, in.Role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.deps.Meta.FindUserByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// updateUser: an admin may change anyone's role and password; a user may
// change their own password by giving the current one.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Role            *imgmgr.Role `json:"role"`
		Password        *string      `json:"password"`
		CurrentPassword string       `json:"current_password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p, id := principal(r), r.PathValue("id")
	if !p.IsAdmin() && (id != p.UserID || in.Role != nil) {
		return imgmgr.Errorf(imgmgr.KindPermission, "forbidden", "you may change only your own password")
	}
	if in.Role != nil && id == p.UserID && *in.Role != p.Role { // the last admin must not lock everyone out
		return imgmgr.Errorf(imgmgr.KindConflict, "cannot_change_own_role", "you cannot change your own role")
	}
	u, err := s.deps.Meta.FindUserByID(r.Context(), id)
	if err != nil {
		return err
	}
	// Changing one's own password always takes the current one, admins
	// included: a stolen access token must not be enough to take the account.
	if in.Password != nil && id == p.UserID && !auth.CheckPassword(u.PasswordHash, in.CurrentPassword) {
		return imgmgr.Errorf(imgmgr.KindPermission, "invalid_credentials", "the current password is wrong")
	}
	if in.Role != nil {
		if !in.Role.Valid() {
			return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_role", "role must be admin or user")
		}
		if u, err = s.deps.Meta.UpdateUser(r.Context(), id, imgmgr.UserUpdate{Role: in.Role}); err != nil {
			return err
		}
	}
	if in.Password != nil {
		if err := s.deps.Auth.SetPassword(r.Context(), id, *in.Password); err != nil {
			return err
		}
		if u, err = s.deps.Meta.FindUserByID(r.Context(), id); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if id == principal(r).UserID {
		return imgmgr.Errorf(imgmgr.KindConflict, "cannot_delete_self", "you cannot delete your own account")
	}
	if err := s.deps.Meta.DeleteUser(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	ks, err := s.deps.Meta.ListAPIKeys(r.Context(), principal(r).UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"api_keys": ks})
	return nil
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	secret, k, err := s.deps.Auth.CreateAPIKey(r.Context(), principal(r).UserID, in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"key": secret, "api_key": k})
	return nil
}

func (s *Server) deleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.deps.Meta.DeleteAPIKey(r.Context(), principal(r).UserID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// formTypedJSON lets a JSON object sent as application/x-www-form-urlencoded
// be read as JSON: `curl -d '{"username":...}'` sends that type unless told
// otherwise, and it is how most people first try the login (issue 10, item
// 14: the README's own example answered 415). Only a body whose first
// non-blank byte is "{" counts; real form data (a=b&c=d) still gets 415.
// Tokens come back in the body, never as cookies, so a cross-site form
// that posts such a body gains nothing. Other types pass unchanged.
func formTypedJSON(r *http.Request) *http.Request {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	if ct != "application/x-www-form-urlencoded" || r.Body == nil {
		return r
	}
	br := bufio.NewReader(r.Body)
	r2 := r.Clone(r.Context())
	r2.Body = readCloser{br, r.Body} // what was peeked stays readable
	if firstNonBlank(br) == '{' {
		r2.Header.Set("Content-Type", "application/json")
	}
	return r2
}

// firstNonBlank returns the first byte after leading white space without
// consuming it (the JSON decoder skips the space anyway); 0 at the end.
func firstNonBlank(br *bufio.Reader) byte {
	for n := 1; n <= br.Size(); n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			return 0
		}
		if c := b[n-1]; c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c
		}
		if err != nil {
			return 0
		}
	}
	return 0
}

// readCloser reads from a buffered view of a body and closes the body.
type readCloser struct {
	*bufio.Reader
	body interface{ Close() error }
}

func (rc readCloser) Close() error { return rc.body.Close() }
