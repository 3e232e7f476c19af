package httpapi

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"
)

// openAPI describes the routes; a test keeps it and the mux in step.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(openAPI)
	return err
}

// CheckOpenAPI reports routes missing from the OpenAPI document and
// documented operations that no route serves. Catch-alls ("/api/", "/img/",
// "/") and OPTIONS are not operations.
func CheckOpenAPI(routes []string) (missing, stale []string) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		return []string{"openapi.json: " + err.Error()}, nil
	}
	served := map[string]bool{}
	var prefixes []string // catch-all patterns ("GET /img/") serve documented paths below them
	for _, r := range routes {
		method, path, ok := strings.Cut(r, " ")
		if !ok { // a pattern without a method serves them all
			method, path = "*", r
		}
		if method == "OPTIONS" {
			continue
		}
		if strings.HasSuffix(path, "/") {
			prefixes = append(prefixes, strings.ToLower(method)+" "+path)
			continue
		}
		served[strings.ToLower(method)+" "+path] = true
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			missing = append(missing, r)
		}
	}
	for path, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" && !served[m+" "+path] && !underPrefix(prefixes, m+" "+path) {
				stale = append(stale, strings.ToUpper(m)+" "+path)
			}
		}
	}
	return missing, stale
}

func underPrefix(prefixes []string, op string) bool {
	method, path, _ := strings.Cut(op, " ")
	for _, p := range prefixes {
		pm, pp, _ := strings.Cut(p, " ")
		if (pm == "*" || pm == method) && strings.HasPrefix(path, pp) && pp != "/" {
			return true
		}
	}
	return false
}
