package deploy

import (
	"bufio"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr/internal/metricsdoc"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// TestGrafanaDashboard checks grafana/imgmgr.json: it parses, every panel
// has a query, and every query uses only metric names that the server
// exports or the recording rules define. "Exported" is the table of
// docs/metrics.md, which TestMetricsTable (cmd/imgmgr) holds equal to what
// the real server exports; histograms add their _bucket, _count and _sum.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("grafana/imgmgr.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana/imgmgr.json: %v", err)
	}
	known := knownMetrics(t)
	var n int
	for _, p := range d.allPanels() {
		if p.Type == "row" {
			continue
		}
		n++
		if len(p.Targets) == 0 {
			t.Errorf("panel %q: no query", p.Title)
		}
		for _, q := range p.Targets {
			names := metricNames(q.Expr)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q names no metric", p.Title, q.Expr)
			}
			for _, name := range names {
				if !known[name] {
					t.Errorf("panel %q: %s is neither exported (docs/metrics.md) nor recorded (prometheus/*.rules.yml): %s", p.Title, name, q.Expr)
				}
			}
		}
	}
	for _, v := range d.Templating.List {
		if m := labelValuesRe.FindStringSubmatch(v.Query.Query); m != nil && !known[m[1]] {
			t.Errorf("variable %q: %s is not exported", v.Name, m[1])
		}
	}
	if n < 10 {
		t.Errorf("only %d panels", n)
	}
}

type dashboard struct {
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Query query  `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

// query is a variable's query, which Grafana writes as a string or as an
// object with a "query" field.
type query struct{ Query string }

func (q *query) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &q.Query); err == nil {
		return nil
	}
	var o struct{ Query string }
	err := json.Unmarshal(b, &o)
	q.Query = o.Query
	return err
}

type panel struct {
	Title   string  `json:"title"`
	Type    string  `json:"type"`
	Panels  []panel `json:"panels"` // of a collapsed row
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// allPanels lists the panels, those inside collapsed rows included.
func (d dashboard) allPanels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// knownMetrics is the set of names a query may use: the table's metrics
// (with the series names of histograms) and the names the recording rules
// define. The go_* and process_* collectors are left out on purpose: the
// dashboard shows imgmgr's own metrics.
func knownMetrics(t *testing.T) map[string]bool {
	t.Helper()
	rows, err := metricsdoc.Read(testenv.RepoRoot() + "/docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, r := range rows {
		known[r.Name] = true
		if r.Type == "histogram" {
			for _, s := range []string{"_bucket", "_count", "_sum"} {
				known[r.Name+s] = true
			}
		}
	}
	for _, f := range ruleFiles {
		for _, name := range recordedNames(t, f) {
			known[name] = true
		}
	}
	return known
}

var (
	recordRe      = regexp.MustCompile(`^\s*-?\s*record:\s*(\S+)\s*$`)
	labelValuesRe = regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)`)
)

// recordedNames lists the `record:` names of a rule file.
func recordedNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := recordRe.FindStringSubmatch(sc.Text()); m != nil {
			out = append(out, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	stringRe   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	bracketRe  = regexp.MustCompile(`\[[^\]]*\]|\{[^}]*\}`)
	groupingRe = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	numberRe   = regexp.MustCompile(`\b\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)?\b`) // and durations
	identRe    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	keywords   = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true}
)

// metricNames returns the metric names a PromQL expression selects: what
// is left once strings, label matchers, ranges, grouping clauses, numbers,
// function names and keywords are taken out. It is a scanner for our own
// dashboard's queries, not a PromQL parser.
func metricNames(expr string) []string {
	s := stringRe.ReplaceAllString(expr, `""`)
	s = bracketRe.ReplaceAllString(s, " ")
	s = groupingRe.ReplaceAllString(s, " ")
	s = numberRe.ReplaceAllString(s, " ")
	var out []string
	for _, m := range identRe.FindAllStringSubmatch(s, -1) {
		name := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[0]), "("))
		if m[1] != "" || keywords[strings.ToLower(name)] {
			continue // a function or aggregation, or a keyword
		}
		out = append(out, name)
	}
	return out
}

func TestMetricNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want string
	}{
		{`sum by (route) (rate(imgmgr_http_requests_total{job=~"$job",status=~"5.."}[$__rate_interval]))`, "imgmgr_http_requests_total"},
		{`histogram_quantile(0.95, sum by (le) (rate(a_bucket{x="by (y)"}[5m]))) / on (slo) group_left () b:c:d`, "a_bucket b:c:d"},
		{`1 - imgmgr:slo_objective:ratio and bool x offset 1h or vector(1e3)`, "imgmgr:slo_objective:ratio x"},
		{`count by (version) (imgmgr_build_info)`, "imgmgr_build_info"},
	} {
		if got := strings.Join(metricNames(c.expr), " "); got != c.want {
			t.Errorf("metricNames(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}
