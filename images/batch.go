package images

import (
	"context"

	"github.com/imgmgr/imgmgr"
)

// Batch actions.
const (
	ActionDelete     = "delete"
	ActionTag        = "tag"
	ActionUntag      = "untag"
	ActionMove       = "move"
	ActionVisibility = "visibility"
)

// MaxBatch is the most ids one batch may name.
const MaxBatch = 500

// BatchRequest applies one action to many images.
type BatchRequest struct {
	Action     string            `json:"action"`
	IDs        []string          `json:"ids"`
	Tags       []string          `json:"tags,omitempty"`
	AlbumID    *string           `json:"album_id,omitempty"` // move: "" leaves the album
	Visibility imgmgr.Visibility `json:"visibility,omitempty"`
}

// BatchResult is the outcome for one id.
type BatchResult struct {
	ID     string        `json:"id"`
	Status string        `json:"status"` // ok | error
	Error  *ErrorBody    `json:"error,omitempty"`
	Image  *imgmgr.Image `json:"image,omitempty"`
}

// ErrorBody is the client-facing form of an error.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Batch runs req for every id and reports each outcome in order; one
// failure does not stop the others.
func (s *Service) Batch(ctx context.Context, p imgmgr.Principal, req BatchRequest) ([]BatchResult, error) {
	upd, err := batchUpdate(req)
	if err != nil {
		return nil, err
	}
	if len(req.IDs) == 0 || len(req.IDs) > MaxBatch {
		return nil, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_batch", "ids must list 1 to %d images", MaxBatch)
	}
	out := make([]BatchResult, len(req.IDs))
	for i, id := range req.IDs {
		out[i].ID = id
		var im *imgmgr.Image
		if req.Action == ActionDelete {
			err = s.Delete(ctx, p, id)
		} else {
			im, err = s.Update(ctx, p, id, upd)
		}
		out[i].Status, out[i].Image = "ok", im
		if err != nil {
			out[i].Status, out[i].Error = "error", ClientError(err)
		}
	}
	return out, nil
}

func batchUpdate(req BatchRequest) (imgmgr.ImageUpdate, error) {
	var upd imgmgr.ImageUpdate
	switch req.Action {
	case ActionDelete:
	case ActionTag:
		upd.AddTags = req.Tags
	case ActionUntag:
		upd.RemoveTags = req.Tags
	case ActionMove:
		if req.AlbumID == nil {
			return upd, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_batch", "move needs album_id")
		}
		upd.AlbumID = req.AlbumID
	case ActionVisibility:
		v := req.Visibility
		upd.Visibility = &v
	default:
		return upd, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_batch", "action must be delete, tag, untag, move or visibility")
	}
	if (req.Action == ActionTag || req.Action == ActionUntag) && len(req.Tags) == 0 {
		return upd, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_batch", "%s needs tags", req.Action)
	}
	return upd, nil
}

// ClientError is the client-safe body of err.
func ClientError(err error) *ErrorBody {
	code, msg := imgmgr.PublicError(err)
	return &ErrorBody{Code: code, Message: msg}
}
