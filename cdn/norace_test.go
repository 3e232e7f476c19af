//go:build !race

package cdn_test

const raceEnabled = false
