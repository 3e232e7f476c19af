package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/auth"
	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/observe"
)

func migrate(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	log := observe.NewLogger(stdout, cfg.Log.Level, cfg.Log.Format)
	s, err := openMeta(ctx, cfg, log) // opening migrates
	if err != nil {
		return err
	}
	return s.Close()
}

// userCmd: user create NAME | user passwd NAME | user list.
func userCmd(ctx context.Context, cfg config.Config, args []string, role string, stdin io.Reader, stdout io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return errors.New("user: want create, passwd or list")
	}
	s, err := openMeta(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer s.Close()
	key := make([]byte, 32) // token signing is not used by these commands
	svc, err := auth.New(auth.Config{JWTKey: key}, s)
	if err != nil {
		return err
	}
	switch {
	case args[0] == "list":
		us, err := s.ListUsers(ctx)
		for _, u := range us {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", u.ID, u.Username, u.Role)
		}
		return err
	case args[0] == "create" && len(args) == 2:
		pw, err := password(stdin, getenv)
		if err != nil {
			return err
		}
		u, err := svc.CreateUser(ctx, args[1], pw, imgmgr.Role(role))
		if err == nil {
			fmt.Fprintf(stdout, "created %s (%s) %s\n", u.Username, u.Role, u.ID)
		}
		return err
	case args[0] == "passwd" && len(args) == 2:
		u, err := s.FindUserByUsername(ctx, args[1])
		if err != nil {
			return err
		}
		pw, err := password(stdin, getenv)
		if err != nil {
			return err
		}
		if err := svc.SetPassword(ctx, u.ID, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password changed for %s; their sessions were revoked\n", u.Username)
		return nil
	}
	return fmt.Errorf("user: unknown or incomplete command %q", strings.Join(args, " "))
}

// password comes from IMGMGR_PASSWORD, else the first line of stdin.
func password(stdin io.Reader, getenv func(string) string) (string, error) {
	if pw := getenv("IMGMGR_PASSWORD"); pw != "" {
		return pw, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("give the password in IMGMGR_PASSWORD or on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
