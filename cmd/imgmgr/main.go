// Command imgmgr is the image platform's one binary: the server (serve,
// the default) and its administration subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/imgmgr/imgmgr/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `imgmgr — self-hosted image platform

Usage:
  imgmgr [serve] [flags]                      run the server (default)
  imgmgr migrate [flags]                      create or migrate the metadata schema
  imgmgr user create NAME [--role admin|user] create a user (password from IMGMGR_PASSWORD or stdin)
  imgmgr user passwd NAME                     set a user's password (IMGMGR_PASSWORD or stdin)
  imgmgr user list                            list users
  imgmgr sign ID OPTIONS[@ext]... [--expires-in 1h]  print signed variant URLs of an image
  imgmgr version                              print the version

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "imgmgr:", err)
		os.Exit(1)
	}
}

// run parses args and runs one subcommand.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	fs := pflag.NewFlagSet("imgmgr", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	flags := config.NewFlags(fs)
	role := fs.String("role", "user", "role for `user create`: admin or user")
	expiresIn := fs.Duration("expires-in", 0, "for `sign`: URL lifetime (0 = no expiry for public images; private ones always expire)")
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	if cmd == "version" {
		fmt.Fprintln(stdout, "imgmgr", version)
		return nil
	}
	cfg, err := config.Load(flags, getenv)
	if err != nil {
		return err
	}
	switch cmd {
	case "serve":
		return serve(ctx, cfg, stdout, getenv)
	case "migrate":
		return migrate(ctx, cfg, stdout)
	case "user":
		return userCmd(ctx, cfg, fs.Args(), *role, stdin, stdout, getenv)
	case "sign":
		return signCmd(ctx, cfg, fs.Args(), *expiresIn, stdout)
	}
	fs.Usage()
	return fmt.Errorf("unknown command %q", cmd)
}
