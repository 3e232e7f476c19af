package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/imgmgr/imgmgr/config"
)

// signingKeys returns delivery.keys (empty placeholder pairs left out), or
// when there are none the pair kept in <data_dir>/signing-keys.json,
// generated on the first start and kept across restarts so signed URLs stay
// valid. Replicas must share one pair: configure it, or share the data dir's
// file.
func signingKeys(cfg config.Config) ([]config.SigningKey, error) {
	var configured []config.SigningKey
	for _, k := range cfg.Delivery.Keys {
		if !k.Placeholder() {
			configured = append(configured, k)
		}
	}
	if len(configured) > 0 {
		for i, k := range cfg.Delivery.Keys {
			if k.Placeholder() {
				continue
			}
			if _, err := hex.DecodeString(k.Key); err != nil || k.Key == "" {
				return nil, &config.Error{Key: fmt.Sprintf("delivery.keys[%d].key", i), Err: fmt.Errorf("must be hex")}
			}
			if _, err := hex.DecodeString(k.Salt); err != nil {
				return nil, &config.Error{Key: fmt.Sprintf("delivery.keys[%d].salt", i), Err: fmt.Errorf("must be hex")}
			}
		}
		return configured, nil
	}
	path := filepath.Join(cfg.Server.DataDir, "signing-keys.json")
	if b, err := os.ReadFile(path); err == nil {
		var keys []config.SigningKey
		if err := json.Unmarshal(b, &keys); err != nil || len(keys) == 0 {
			return nil, fmt.Errorf("%s: unreadable signing keys: %v", path, err)
		}
		return keys, nil
	}
	keys := []config.SigningKey{{Key: randomHex(32), Salt: randomHex(32)}}
	b, _ := json.MarshalIndent(keys, "", "  ")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if os.IsExist(err) {
			return signingKeys(cfg) // another process wrote it first
		}
		return nil, err
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		return nil, err
	}
	return keys, f.Sync()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
