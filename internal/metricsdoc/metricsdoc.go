// Package metricsdoc reads the metrics table of docs/metrics.md, so that
// tests can hold the exported metrics, the dashboards and the table in step.
package metricsdoc

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Metric is one row of the table: | `name` | type | `label`, ... | meaning |.
type Metric struct {
	Name   string
	Type   string   // counter, gauge, histogram, summary
	Labels []string // in the table's order; none is written "—"
}

// Read returns the rows of the table in the Markdown file at path, in order.
// A row whose name cell is not one backquoted name is an error.
func Read(path string) ([]Metric, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Metric
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 4 {
			return nil, fmt.Errorf("%s:%d: want 4 cells: name, type, labels, meaning", path, n)
		}
		name := strings.TrimSpace(cells[0])
		if strings.Count(name, "`") != 2 || !strings.HasPrefix(name, "`") || !strings.HasSuffix(name, "`") {
			return nil, fmt.Errorf("%s:%d: name cell %q is not one `name`", path, n, name)
		}
		m := Metric{Name: strings.Trim(name, "`"), Type: strings.TrimSpace(cells[1])}
		for _, l := range strings.Split(cells[2], ",") {
			if l = strings.Trim(strings.TrimSpace(l), "`"); l != "" && l != "—" {
				m.Labels = append(m.Labels, l)
			}
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// StandardPrefix reports whether name comes from client_golang's Go runtime
// or process collector, which the table does not list one by one.
func StandardPrefix(name string) bool {
	return strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_")
}
