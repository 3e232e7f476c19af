package vips

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if err := Startup(Config{}); err != nil {
		panic(err)
	}
	code := m.Run()
	Shutdown()
	os.Exit(code)
}
