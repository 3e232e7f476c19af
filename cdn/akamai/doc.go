// Package akamai purges Akamai's cache through the Fast Purge API v3
// (POST /ccu/v3/{invalidate|delete}/{url|tag}/{staging|production} with
// {"objects": [...]}), signed with EdgeGrid (EG1-HMAC-SHA256). Fast Purge
// has no status endpoint: a purge is in progress until its
// estimatedSeconds have passed. There is no push API: prefetch GETs the
// public URLs through the CDN.
//
// Limits, from Akamai's Fast Purge documentation: a body of at most 50,000
// bytes; token buckets per account of 100 requests (50/s), 10,000 URLs
// (12,000/min) and 5,000 cache tags (500/min); a 429 (tokens not consumed)
// asks to wait five seconds.
package akamai
