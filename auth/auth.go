// Package auth holds users, password hashing, JWT access tokens, rotating
// refresh tokens and API keys, and turns a bearer credential into a
// Principal.
package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

// Config of the auth service. Zero durations take the defaults.
type Config struct {
	JWTKey     []byte        // HMAC key for access tokens, at least 32 bytes
	Issuer     string        // default "imgmgr"
	Audience   string        // default "imgmgr-api"
	AccessTTL  time.Duration // default 15 minutes
	RefreshTTL time.Duration // default 30 days
}

func (c *Config) setDefaults() {
	if c.Issuer == "" {
		c.Issuer = "imgmgr"
	}
	if c.Audience == "" {
		c.Audience = "imgmgr-api"
	}
	if c.AccessTTL == 0 {
		c.AccessTTL = 15 * time.Minute
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = 30 * 24 * time.Hour
	}
}

// Validate checks the config.
func (c Config) Validate() error {
	if len(c.JWTKey) < 32 {
		return errors.New("auth.jwt_key must be at least 32 bytes")
	}
	if c.AccessTTL < 0 || c.RefreshTTL < 0 {
		return errors.New("auth token lifetimes must be positive")
	}
	return nil
}

// Service authenticates callers and manages credentials.
type Service struct {
	cfg  Config
	meta meta.Store
	now  func() time.Time
}

// New returns a Service over the metadata store.
func New(cfg Config, store meta.Store) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	return &Service{cfg: cfg, meta: store, now: time.Now}, nil
}

// Tokens is what login and refresh answer.
type Tokens struct {
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token"`
	TokenType    string      `json:"token_type"`
	ExpiresIn    int         `json:"expires_in"` // seconds
	User         imgmgr.User `json:"user"`
}

var errBadLogin = imgmgr.Errorf(imgmgr.KindUnauthenticated, "invalid_credentials", "wrong username or password")

// Login checks a username and password and starts a session family.
func (s *Service) Login(ctx context.Context, username, password string) (*Tokens, error) {
	u, err := s.meta.FindUserByUsername(ctx, username)
	if err != nil {
		if imgmgr.IsNotFound(err) {
			CheckPassword(dummyHash, password)
			return nil, errBadLogin
		}
		return nil, err
	}
	if !CheckPassword(u.PasswordHash, password) {
		return nil, errBadLogin
	}
	return s.issue(ctx, u, randomToken(16))
}

// Refresh rotates a refresh token. Presenting a token that was already
// rotated revokes its whole family (it was stolen or replayed).
func (s *Service) Refresh(ctx context.Context, refresh string) (*Tokens, error) {
	bad := imgmgr.Errorf(imgmgr.KindUnauthenticated, "invalid_refresh_token", "the refresh token is invalid or expired")
	rt, err := s.meta.FindRefreshToken(ctx, hashToken(refresh))
	if err != nil {
		if imgmgr.IsNotFound(err) {
			return nil, bad
		}
		return nil, err
	}
	if rt.RevokedAt != nil || !s.now().Before(rt.ExpiresAt) {
		return nil, bad
	}
	if rt.UsedAt != nil {
		return nil, s.revokeReused(ctx, rt)
	}
	u, err := s.meta.FindUserByID(ctx, rt.UserID)
	if err != nil {
		return nil, bad
	}
	next, tok := s.newRefresh(u.ID, rt.FamilyID)
	if err := s.meta.UseRefreshToken(ctx, rt.Hash, next); err != nil {
		if imgmgr.KindOf(err) == imgmgr.KindConflict {
			return nil, s.revokeReused(ctx, rt)
		}
		return nil, err
	}
	return s.tokens(u, tok)
}

func (s *Service) revokeReused(ctx context.Context, rt *imgmgr.RefreshToken) error {
	if err := s.meta.RevokeRefreshFamily(ctx, rt.FamilyID); err != nil {
		return err
	}
	return imgmgr.Errorf(imgmgr.KindUnauthenticated, "refresh_token_reused", "the refresh token was already used; the session was revoked")
}

// Logout revokes the session family of a refresh token. An unknown token
// is not an error.
func (s *Service) Logout(ctx context.Context, refresh string) error {
	rt, err := s.meta.FindRefreshToken(ctx, hashToken(refresh))
	if imgmgr.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.meta.RevokeRefreshFamily(ctx, rt.FamilyID)
}

func (s *Service) newRefresh(userID, family string) (*imgmgr.RefreshToken, string) {
	tok := randomToken(32)
	now := s.now().UTC()
	return &imgmgr.RefreshToken{Hash: hashToken(tok), FamilyID: family, UserID: userID,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL)}, tok
}

func (s *Service) issue(ctx context.Context, u *imgmgr.User, family string) (*Tokens, error) {
	rt, tok := s.newRefresh(u.ID, family)
	if err := s.meta.CreateRefreshToken(ctx, rt); err != nil {
		return nil, err
	}
	return s.tokens(u, tok)
}

func (s *Service) tokens(u *imgmgr.User, refresh string) (*Tokens, error) {
	access, err := s.AccessToken(u)
	if err != nil {
		return nil, err
	}
	return &Tokens{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		ExpiresIn: int(s.cfg.AccessTTL / time.Second), User: *u}, nil
}

// claims of an access token. Pwd is the user's password-change time, so a
// password change invalidates every token issued before it.
type claims struct {
	Role string `json:"role"`
	Pwd  int64  `json:"pwd"`
	jwt.RegisteredClaims
}

// AccessToken signs a short-lived HS256 access token for u.
func (s *Service) AccessToken(u *imgmgr.User) (string, error) {
	now := s.now()
	c := claims{Role: string(u.Role), Pwd: u.PasswordChangedAt.UnixMicro(), RegisteredClaims: jwt.RegisteredClaims{
		Issuer: s.cfg.Issuer, Subject: u.ID, Audience: jwt.ClaimStrings{s.cfg.Audience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.AccessTTL)), ID: randomToken(9),
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.cfg.JWTKey)
}

// Authenticate turns a bearer credential (access token or API key) into the
// caller. It implements the events endpoint's authenticator too.
func (s *Service) Authenticate(ctx context.Context, bearer string) (imgmgr.Principal, error) {
	if IsAPIKey(bearer) {
		return s.authenticateKey(ctx, bearer)
	}
	bad := imgmgr.Errorf(imgmgr.KindUnauthenticated, "invalid_token", "the access token is invalid or expired")
	var c claims
	_, err := jwt.ParseWithClaims(bearer, &c, func(*jwt.Token) (any, error) { return s.cfg.JWTKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithIssuer(s.cfg.Issuer),
		jwt.WithAudience(s.cfg.Audience), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.now))
	if err != nil {
		return imgmgr.Principal{}, bad
	}
	u, err := s.meta.FindUserByID(ctx, c.Subject)
	if err != nil {
		if imgmgr.IsNotFound(err) {
			return imgmgr.Principal{}, bad
		}
		return imgmgr.Principal{}, err
	}
	if u.PasswordChangedAt.UnixMicro() != c.Pwd {
		return imgmgr.Principal{}, bad
	}
	return imgmgr.Principal{UserID: u.ID, Username: u.Username, Role: u.Role}, nil
}

func (s *Service) authenticateKey(ctx context.Context, key string) (imgmgr.Principal, error) {
	bad := imgmgr.Errorf(imgmgr.KindUnauthenticated, "invalid_api_key", "the API key is invalid")
	k, err := s.meta.FindAPIKeyByHash(ctx, hashToken(key))
	if err != nil {
		if imgmgr.IsNotFound(err) {
			return imgmgr.Principal{}, bad
		}
		return imgmgr.Principal{}, err
	}
	u, err := s.meta.FindUserByID(ctx, k.UserID)
	if err != nil {
		return imgmgr.Principal{}, bad
	}
	if k.LastUsedAt == nil || s.now().Sub(*k.LastUsedAt) > time.Minute {
		_ = s.meta.TouchAPIKey(ctx, k.ID, s.now().UTC()) // best effort: a usage hint only
	}
	return imgmgr.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, APIKeyID: k.ID}, nil
}

// CreateAPIKey makes a key for the user; the returned secret is shown once.
func (s *Service) CreateAPIKey(ctx context.Context, userID, name string) (secret string, key *imgmgr.APIKey, err error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", nil, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_name", "name must be 1 to 100 characters")
	}
	secret = APIKeyPrefix + randomToken(32)
	key = &imgmgr.APIKey{UserID: userID, Name: name, Prefix: secret[:len(APIKeyPrefix)+6], Hash: hashToken(secret), CreatedAt: s.now().UTC()}
	if err := s.meta.CreateAPIKey(ctx, key); err != nil {
		return "", nil, err
	}
	return secret, key, nil
}

// CreateUser validates and creates an account.
func (s *Service) CreateUser(ctx context.Context, username, password string, role imgmgr.Role) (*imgmgr.User, error) {
	username = strings.TrimSpace(username)
	if err := ValidateUsername(username); err != nil {
		return nil, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_username", "%s", err)
	}
	if role == "" {
		role = imgmgr.RoleUser
	}
	if !role.Valid() {
		return nil, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_role", "role must be admin or user")
	}
	if err := ValidatePassword(password); err != nil {
		return nil, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_password", "%s", err)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, imgmgr.Internal("auth.CreateUser", err)
	}
	u := &imgmgr.User{Username: username, Role: role, PasswordHash: hash, PasswordChangedAt: s.now().UTC()}
	if err := s.meta.CreateUser(ctx, u); err != nil {
		if imgmgr.KindOf(err) == imgmgr.KindConflict {
			return nil, imgmgr.Errorf(imgmgr.KindConflict, "username_taken", "username %q is taken", username)
		}
		return nil, err
	}
	return u, nil
}

// SetPassword changes a user's password; every session and access token
// issued before stops working.
func (s *Service) SetPassword(ctx context.Context, userID, password string) error {
	if err := ValidatePassword(password); err != nil {
		return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_password", "%s", err)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return imgmgr.Internal("auth.SetPassword", err)
	}
	if _, err := s.meta.UpdateUser(ctx, userID, imgmgr.UserUpdate{PasswordHash: &hash}); err != nil {
		return err
	}
	return s.meta.RevokeUserRefreshTokens(ctx, userID)
}

// ValidateUsername allows 3 to 64 of letters, digits, '.', '_', '-', '@'.
func ValidateUsername(u string) error {
	if len(u) < 3 || len(u) > 64 {
		return errors.New("username must be 3 to 64 characters")
	}
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@", r)) {
			return fmt.Errorf("username may not contain %q", r)
		}
	}
	return nil
}

// Bootstrap creates the first admin when there are no users: with the given
// credentials, or "admin" with a random password that is returned so the
// caller can print it once. It returns "" when nothing was created.
func (s *Service) Bootstrap(ctx context.Context, username, password string) (created, generatedPassword string, err error) {
	n, err := s.meta.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", "", err
	}
	if username == "" {
		username = "admin"
	}
	if password == "" {
		password = RandomPassword()
		generatedPassword = password
	}
	if _, err := s.CreateUser(ctx, username, password, imgmgr.RoleAdmin); err != nil {
		if imgmgr.KindOf(err) == imgmgr.KindConflict {
			return "", "", nil // another replica created the first admin since we counted
		}
		return "", "", err
	}
	return username, generatedPassword, nil
}
