package blob_test

import (
	"testing"

	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/blob/locktest"
)

// Two users of one in-process set stand for two holders.
func TestLocksConformance(t *testing.T) {
	locktest.Run(t, locktest.Backend{Open: func(t *testing.T) (blob.KeyLocker, blob.KeyLocker) {
		l := &blob.Locks{}
		return l, l
	}})
}
