package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/cdn"
	"github.com/imgmgr/imgmgr/meta"
)

// CDNService is the CDN work behind /api/v1/cdn (cdn.Service).
type CDNService interface {
	Purge(ctx context.Context, r cdn.Request) ([]meta.CDNTask, error)
	Prefetch(ctx context.Context, r cdn.Request) ([]meta.CDNTask, error)
	Tasks(ctx context.Context, state string, limit int) ([]meta.CDNTask, error)
	Task(ctx context.Context, id string) (*meta.CDNTask, error)
}

var errNoCDN = imgmgr.Errorf(imgmgr.KindNotFound, "cdn_not_configured", "no CDN is configured (cdn.provider)")

// cdnTask is the JSON form of a task.
type cdnTask struct {
	ID            string          `json:"id"`
	Provider      string          `json:"provider"`
	Kind          string          `json:"kind"`
	State         string          `json:"state"`
	Items         json.RawMessage `json:"items"`
	Reason        string          `json:"reason"`
	Attempts      int             `json:"attempts"`
	NextAttemptAt *time.Time      `json:"next_attempt_at,omitempty"`
	VendorIDs     []string        `json:"vendor_ids"`
	Error         string          `json:"error,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	SubmittedAt   *time.Time      `json:"submitted_at,omitempty"`
	DoneAt        *time.Time      `json:"done_at,omitempty"`
	UpdatedAt     time.Time       `json:"updated_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toCDNTask(t meta.CDNTask) cdnTask {
	out := cdnTask{ID: t.ID, Provider: t.Provider, Kind: t.Kind, State: t.State, Items: t.Items, Reason: t.Reason,
		Attempts: t.Attempts, VendorIDs: t.VendorIDs, Error: t.Error, CreatedAt: t.CreatedAt,
		SubmittedAt: optTime(t.SubmittedAt), DoneAt: optTime(t.DoneAt), UpdatedAt: t.UpdatedAt}
	if t.State == meta.CDNQueued || t.State == meta.CDNInProgress {
		out.NextAttemptAt = optTime(t.NextAttemptAt)
	}
	if out.VendorIDs == nil {
		out.VendorIDs = []string{}
	}
	return out
}

func toCDNTasks(ts []meta.CDNTask) map[string][]cdnTask {
	out := make([]cdnTask, len(ts))
	for i, t := range ts {
		out[i] = toCDNTask(t)
	}
	return map[string][]cdnTask{"tasks": out}
}

func (s *Server) cdnPurge(w http.ResponseWriter, r *http.Request) error {
	return s.cdnRequest(w, r, s.deps.CDN.Purge)
}

func (s *Server) cdnPrefetch(w http.ResponseWriter, r *http.Request) error {
	return s.cdnRequest(w, r, s.deps.CDN.Prefetch)
}

// cdnRequest decodes {"image_ids"|"urls"|"tags": [...]} and answers 202
// with the queued tasks.
func (s *Server) cdnRequest(w http.ResponseWriter, r *http.Request, do func(context.Context, cdn.Request) ([]meta.CDNTask, error)) error {
	if s.deps.CDN == nil {
		return errNoCDN
	}
	var req cdn.Request
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	ts, err := do(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, toCDNTasks(ts))
	return nil
}

func (s *Server) cdnTasks(w http.ResponseWriter, r *http.Request) error {
	if s.deps.CDN == nil {
		return errNoCDN
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_limit", "limit must be 1..1000")
		}
		limit = n
	}
	ts, err := s.deps.CDN.Tasks(r.Context(), r.URL.Query().Get("state"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCDNTasks(ts))
	return nil
}

func (s *Server) cdnTask(w http.ResponseWriter, r *http.Request) error {
	if s.deps.CDN == nil {
		return errNoCDN
	}
	t, err := s.deps.CDN.Task(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCDNTask(*t))
	return nil
}
