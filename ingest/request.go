// Package ingest is the one path every upload takes, multipart or tus:
// spool and hash, sniff the type from magic bytes, check limits from a
// header-only probe, decode once, scan, store the blob (content-addressed,
// de-duplicated) and record the image row in one transaction.
package ingest

import "github.com/imgmgr/imgmgr"

// Request describes one file to ingest besides its bytes.
type Request struct {
	Owner      imgmgr.Principal
	Filename   string // as the client named it; informative only, never trusted for type
	Title      string
	Tags       []string
	Album      string // album id or name (created for the owner when missing)
	Visibility imgmgr.Visibility
	UploadID   string // client-chosen or tus id, for progress events; may be empty
}

// The service (see ingest.go) offers:
//
//	// IngestReader spools r (memory up to a threshold, then a temp file) while hashing and counting.
//	func (s *Service) IngestReader(ctx context.Context, req Request, r io.Reader) (*imgmgr.Image, error)
//	// IngestFile ingests a complete staged file (tus); it does not remove f.
//	func (s *Service) IngestFile(ctx context.Context, req Request, f *os.File) (*imgmgr.Image, error)
