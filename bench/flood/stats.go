package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// stats collects outcomes per kind of request ("multipart POST", ...).
type stats struct {
	mu    sync.Mutex
	kinds map[string]*kindStats
}

type kindStats struct {
	n, ok, tooMany, busy, other4xx, other5xx, transport int
	durs                                                []time.Duration
	okDurs                                              []time.Duration
	codes                                               map[string]int // "429 rate_limited", ...
	limits                                              map[string]int // RateLimit-Limit of 429s
	errs                                                map[string]int // transport errors
}

func newStats() *stats { return &stats{kinds: map[string]*kindStats{}} }

func (s *stats) add(kind string, o outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.kinds[kind]
	if k == nil {
		k = &kindStats{codes: map[string]int{}, limits: map[string]int{}, errs: map[string]int{}}
		s.kinds[kind] = k
	}
	k.n++
	k.durs = append(k.durs, o.dur)
	switch {
	case o.status == 0:
		k.transport++
		k.errs[shortErr(o.err)]++
		return
	case o.status < 300 && o.code == "":
		k.ok++
		k.okDurs = append(k.okDurs, o.dur)
		return
	case o.status == 429:
		k.tooMany++
		k.limits[o.limit]++
	case o.status == 503, o.status == 507:
		k.busy++
	case o.status < 500:
		k.other4xx++
	default:
		k.other5xx++
	}
	k.codes[fmt.Sprintf("%d %s", o.status, o.code)]++
}

// serverErrors counts 5xx answers other than 503 and transport errors.
func (s *stats) serverErrors() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, k := range s.kinds {
		n += k.other5xx + k.transport
	}
	return n
}

func (s *stats) print(out io.Writer, elapsed time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "request\tsent\t2xx\t429\t503/507\tother 4xx\tother 5xx\tno answer\treq/s\tp50\tp99\tmax\tp50 2xx\tp99 2xx\t\n")
	names := slices.Sorted(maps.Keys(s.kinds))
	for _, name := range names {
		k := s.kinds[name]
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t\n", name, k.n, k.ok, k.tooMany, k.busy,
			k.other4xx, k.other5xx, k.transport, float64(k.n)/elapsed.Seconds(),
			ms(pct(k.durs, 50)), ms(pct(k.durs, 99)), ms(pct(k.durs, 100)), ms(pct(k.okDurs, 50)), ms(pct(k.okDurs, 99)))
	}
	w.Flush()
	fmt.Fprintf(out, "flood lasted %.1fs\n", elapsed.Seconds())
	for _, name := range names {
		k := s.kinds[name]
		fmt.Fprintf(out, "%s: answers by status and code: %s\n", name, counts(k.codes))
		if len(k.limits) > 0 {
			fmt.Fprintf(out, "%s: 429s by RateLimit-Limit (the bucket size; several policies may share one): %s\n", name, counts(k.limits))
		}
		if len(k.errs) > 0 {
			fmt.Fprintf(out, "%s: transport errors: %s\n", name, counts(k.errs))
		}
	}
}

func counts(m map[string]int) string {
	keys := slices.Collect(maps.Keys(m))
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%q×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// pct is the p-th percentile (nearest rank); 100 is the maximum.
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

func shortErr(err error) string {
	if err == nil {
		return "unreadable body"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}
