package clamd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/scan"
)

// parseReply reads clamd's answer to INSTREAM:
//
//	stream: OK
//	stream: Eicar-Signature FOUND
//	INSTREAM size limit exceeded. ERROR
//	stream: <reason> ERROR
//
// Custom signatures carry clamd's ".UNOFFICIAL" suffix; it is kept, since
// it is part of the name clamd reports.
func parseReply(reply string) (scan.Result, error) {
	s := strings.TrimRight(reply, "\x00\r\n ")
	switch {
	case strings.HasSuffix(s, " FOUND"):
		body := strings.TrimSuffix(s, " FOUND")
		if i := strings.LastIndex(body, ": "); i >= 0 {
			body = body[i+2:]
		}
		return scan.Result{Infected: true, Signature: cleanSignature(body)}, nil
	case s == "stream: OK" || strings.HasSuffix(s, ": OK"):
		return scan.Result{}, nil
	case strings.Contains(s, "size limit exceeded"):
		return scan.Result{}, &imgmgr.Error{Kind: imgmgr.KindTooLarge, Code: "scan_size_limit",
			Message: "the file is larger than the malware scanner accepts", Err: errors.New(clip(s))}
	case strings.HasSuffix(s, " ERROR"):
		return scan.Result{}, &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "scanner_error",
			Message: "the malware scanner failed; try again later", Err: fmt.Errorf("clamd: %s", clip(s))}
	}
	return scan.Result{}, &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "scanner_error",
		Message: "the malware scanner gave no verdict; try again later", Err: fmt.Errorf("clamd: unexpected reply %q", clip(s))}
}

// cleanSignature keeps a signature name printable and short, since it is
// shown to clients and written to logs.
func cleanSignature(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 128 {
			break
		}
		if r > ' ' && r < 0x7f {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
