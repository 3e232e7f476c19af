// Package scan is the malware-scanning contract that ingest runs every
// upload through before anything is stored. The clamd subpackage speaks to
// ClamAV's daemon; other engines implement the same Scanner.
package scan

import (
	"context"
	"io"

	"github.com/imgmgr/imgmgr"
)

// Result is a scanner's verdict on one stream. An infected stream is not an
// error: Infected is true and Signature names what was found.
type Result struct {
	Infected  bool
	Signature string // the engine's name for the match, e.g. "Eicar-Test-Signature"; "" when clean
}

// Scanner scans streams for malware. Implementations are safe for
// concurrent use.
type Scanner interface {
	// Scan reads r to its end (or until the scanner stops it) and reports
	// the verdict. It never closes r. Errors are *imgmgr.Error: KindTooLarge
	// when the stream exceeds the scanner's size limit, KindUnavailable when
	// the scanner cannot be reached, is busy or failed to give a verdict;
	// an error from r is returned wrapped.
	Scan(ctx context.Context, r io.Reader) (Result, error)
	// Ping reports whether the scanner answers (for readiness checks);
	// KindUnavailable when it does not.
	Ping(ctx context.Context) error
	// Version returns the engine and signature database versions, as the
	// engine words them.
	Version(ctx context.Context) (string, error)
}

// ErrInfected is the error ingest returns for an infected upload: 422
// malware_detected, naming the signature.
func ErrInfected(signature string) *imgmgr.Error {
	return imgmgr.Errorf(imgmgr.KindUnprocessable, "malware_detected", "malware detected: %s", signature)
}

// Check scans r and turns an infected verdict into ErrInfected.
func Check(ctx context.Context, s Scanner, r io.Reader) error {
	res, err := s.Scan(ctx, r)
	if err != nil {
		return err
	}
	if res.Infected {
		return ErrInfected(res.Signature)
	}
	return nil
}

// Func adapts s to the shape of ingest.ScanFunc: the signature when
// infected, "" when clean.
func Func(s Scanner) func(ctx context.Context, r io.Reader) (string, error) {
	return func(ctx context.Context, r io.Reader) (string, error) {
		res, err := s.Scan(ctx, r)
		if err != nil || !res.Infected {
			return "", err
		}
		if res.Signature == "" {
			return "unknown", nil
		}
		return res.Signature, nil
	}
}
