package imgmgr

import "time"

// Event types published on the event bus and streamed to clients.
const (
	EventUploadCreated   = "upload.created"
	EventUploadProgress  = "upload.progress"
	EventUploadCompleted = "upload.completed"
	EventUploadFailed    = "upload.failed"
	EventScanResult      = "scan.result"
	EventVariantRendered = "variant.rendered"
	EventImageDeleted    = "image.deleted"
)

// Event is something a user may want to see live. UserID says whose event
// it is: only that user (and nobody else) receives it.
type Event struct {
	Type     string    `json:"type"`
	UserID   string    `json:"user_id"`
	UploadID string    `json:"upload_id,omitempty"` // tus id or client-chosen multipart id
	ImageID  string    `json:"image_id,omitempty"`
	Filename string    `json:"filename,omitempty"`
	Stage    string    `json:"stage,omitempty"` // receiving, scanning, processing, done, rejected
	Offset   int64     `json:"offset,omitempty"`
	Length   int64     `json:"length,omitempty"` // -1 when not known yet
	Code     string    `json:"code,omitempty"`
	Message  string    `json:"message,omitempty"`
	Time     time.Time `json:"time"`
}
