package imgmgr

import "time"

// Role is a user's role.
type Role string

const (
	RoleAdmin Role = "admin"
	RoleUser  Role = "user"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleUser }

// User is an account. PasswordHash is never serialised.
type User struct {
	ID                string    `json:"id"`
	Username          string    `json:"username"`
	Role              Role      `json:"role"`
	PasswordHash      string    `json:"-"`
	PasswordChangedAt time.Time `json:"password_changed_at"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// UserUpdate is a partial update of a user.
type UserUpdate struct {
	Role         *Role
	PasswordHash *string // also sets PasswordChangedAt to now
}

// APIKey is a long-lived credential of a user. Only its hash is stored.
type APIKey struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // first characters, to recognise a key
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// RefreshToken is one refresh token of a session family. Hash is the
// SHA-256 of the token (hex). A token is used once: rotation marks it used
// and issues the next in the same family.
type RefreshToken struct {
	Hash      string
	FamilyID  string
	UserID    string
	ExpiresAt time.Time
	CreatedAt time.Time
	UsedAt    *time.Time // set when rotated
	RevokedAt *time.Time // set when its family is revoked
}

// Principal is who is making a request.
type Principal struct {
	UserID   string `json:"user_id"`
	Username string `json:"username"`
	Role     Role   `json:"role"`
	APIKeyID string `json:"api_key_id,omitempty"`
}

// IsAdmin reports whether p has the admin role.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// Owns reports whether p may read and change im: its owner or an admin.
func (p Principal) Owns(im *Image) bool { return p.IsAdmin() || im.OwnerID == p.UserID }
