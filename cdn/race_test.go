//go:build race

package cdn_test

// raceEnabled: the race detector slows the runner's bookkeeping of
// thousands of tasks several times over.
const raceEnabled = true
