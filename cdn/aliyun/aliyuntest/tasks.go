package aliyuntest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// submit records a refresh or push task of the form's ObjectPath.
func (s *Server) submit(w http.ResponseWriter, p url.Values, kind string, perCall, quota int, idField string) {
	paths := strings.FieldsFunc(p.Get("ObjectPath"), func(r rune) bool { return r == '\n' || r == '\r' })
	if msg := checkPaths(paths, perCall); msg != "" {
		s.fail(w, 400, "InvalidObjectPath.Malformed", msg)
		return
	}
	if kind == "refresh" && p.Get("ObjectType") != "File" && p.Get("ObjectType") != "Directory" {
		s.fail(w, 400, "InvalidObjectType.Malformed", "ObjectType must be File or Directory")
		return
	}
	s.mu.Lock()
	if s.used[kind]+len(paths) > quota {
		s.mu.Unlock()
		code := map[string]string{"refresh": "QuotaExceeded.Refresh", "push": "QuotaExceeded.Push"}[kind]
		s.fail(w, 400, code, "Your daily quota is used up.")
		return
	}
	s.used[kind] += len(paths)
	s.nextID++
	id := fmt.Sprint(s.nextID)
	s.tasks[id] = &task{created: time.Now(), kind: kind, paths: paths}
	s.mu.Unlock()
	if kind == "refresh" {
		s.AddPurged(paths...)
	}
	s.reply(w, 200, map[string]any{idField: id})
}

func checkPaths(paths []string, perCall int) string {
	if len(paths) == 0 || len(paths) > perCall {
		return fmt.Sprintf("ObjectPath must list 1 to %d URLs", perCall)
	}
	var host string
	for _, p := range paths {
		u, err := url.Parse(p)
		if err != nil || u.Host == "" || len(p) > 1024 {
			return "each ObjectPath entry is a URL of at most 1,024 characters"
		}
		if host == "" {
			host = u.Host
		} else if u.Host != host {
			return "the URLs of one call must belong to one domain"
		}
	}
	return ""
}

// describe answers DescribeRefreshTaskById for up to 10 ids.
func (s *Server) describe(w http.ResponseWriter, ids string) {
	list := strings.Split(ids, ",")
	if ids == "" || len(list) > 10 {
		s.fail(w, 400, "InvalidTaskId.Malformed", "TaskId lists 1 to 10 ids")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tasks := []map[string]any{}
	for _, id := range list {
		t := s.tasks[id]
		if t == nil {
			continue
		}
		if s.opt.CompleteAfter > 0 && time.Since(t.created) >= s.opt.CompleteAfter {
			s.finish(t)
		}
		status, process := "Refreshing", "50%"
		if t.done {
			status, process = "Complete", "100%"
		}
		for _, p := range t.paths {
			tasks = append(tasks, map[string]any{"TaskId": id, "ObjectPath": p, "Status": status, "Process": process,
				"ObjectType": "file", "CreationTime": t.created.UTC().Format("2006-01-02T15:04:05Z")})
		}
	}
	s.reply(w, 200, map[string]any{"Tasks": tasks, "TotalCount": len(tasks)})
}
