package testenv

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisClusterURL starts a one-node Redis Cluster (redis-server with
// cluster mode on, every slot assigned to it) for the test and returns its
// URL in the cluster form redis://host:port?cluster=true. The node stops
// when the test ends. It needs the redis-server binary that runs the test
// Redis.
func RedisClusterURL(t testing.TB) string {
	t.Helper()
	bin := redisServer(t)
	dir, port := t.TempDir(), freePort(t)
	startRedis(t, exec.Command(bin, "--port", port, "--cluster-enabled", "yes", "--cluster-config-file",
		filepath.Join(dir, "nodes.conf"), "--dir", dir, "--save", "", "--appendonly", "no"))
	waitRedis(t, "the cluster node", func() bool { return strings.Contains(cli(t, port, "ping"), "PONG") })
	cli(t, port, "cluster", "addslotsrange", "0", "16383")
	waitRedis(t, "the cluster node", func() bool { return strings.Contains(cli(t, port, "cluster", "info"), "cluster_state:ok") })
	return "redis://127.0.0.1:" + port + "?cluster=true"
}

// RedisSentinelURL starts a Sentinel that monitors the test Redis
// (RedisURL) as master "imgmgr-test" and returns the Sentinel form of the
// URL, redis://sentinel/db?master_name=imgmgr-test. The Sentinel stops
// when the test ends.
func RedisSentinelURL(t testing.TB) string {
	t.Helper()
	bin := redisServer(t)
	u, err := url.Parse(RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	host, mport, _ := net.SplitHostPort(u.Host)
	dir, port := t.TempDir(), freePort(t)
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %s\ndir %s\nsentinel monitor imgmgr-test %s %s 1\n", port, dir, host, mport)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	startRedis(t, exec.Command(bin, conf, "--sentinel"))
	waitRedis(t, "the sentinel", func() bool {
		return strings.Contains(cli(t, port, "sentinel", "get-master-addr-by-name", "imgmgr-test"), mport)
	})
	return "redis://127.0.0.1:" + port + u.Path + "?master_name=imgmgr-test"
}

func redisServer(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "redis-server (to start a Redis Cluster node or a Sentinel)")
	}
	return bin
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// startRedis runs cmd until the test ends.
func startRedis(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
}

// cli runs redis-cli against the local port and returns its output.
func cli(t testing.TB, port string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "redis-cli", append([]string{"-h", "127.0.0.1", "-p", port}, args...)...).CombinedOutput()
	return string(out)
}

func waitRedis(t testing.TB, what string, ready func() bool) {
	t.Helper()
	for start := time.Now(); !ready(); time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%s did not come up within 10s", what)
		}
	}
}
