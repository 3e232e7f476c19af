package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/variant"
)

// signCmd prints signed variant URLs for an image: imgmgr sign ID OPTIONS...
// (options like "rs:fit:800:0/q:80", optionally ending in @ext).
func signCmd(ctx context.Context, cfg config.Config, args []string, expiresIn time.Duration, stdout io.Writer) error {
	if len(args) < 2 {
		return errors.New("sign: want an image id and one or more option paths, e.g. imgmgr sign ID rs:fit:800:0@webp pr:thumb")
	}
	keys, err := signingKeys(cfg)
	if err != nil {
		return err
	}
	presets, err := variant.ParsePresets(cfg.Delivery.Presets)
	if err != nil {
		return &config.Error{Key: "delivery.presets", Err: err}
	}
	vk := make([]variant.Key, len(keys))
	for i, k := range keys {
		vk[i] = variant.Key{Key: k.Key, Salt: k.Salt}
	}
	signer, err := variant.NewSigner(variant.SignerConfig{Keys: vk, SignatureSize: cfg.Delivery.SignatureSize,
		Presets: presets, PrivateTTL: cfg.Delivery.PrivateTTL.D(), PrivateMaxTTL: cfg.Delivery.PrivateMaxTTL.D()})
	if err != nil {
		return err
	}
	s, err := openMeta(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer s.Close()
	im, err := s.FindImageByID(ctx, args[0])
	if err != nil {
		return err
	}
	for _, v := range args[1:] {
		opts, ext, _ := strings.Cut(v, "@")
		u, err := signer.SignImage(im, opts, ext, expiresIn, cfg.Delivery.PrivateTTL.D())
		if err != nil {
			return fmt.Errorf("%s: %w", v, err)
		}
		fmt.Fprintln(stdout, strings.TrimRight(cfg.Server.PublicURL, "/")+u)
	}
	return nil
}
