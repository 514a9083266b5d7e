package embedded

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/storetest"
)

// opener gives each test its own file and reopens that same file on later calls.
func opener() storetest.Opener {
	var mu sync.Mutex
	paths := map[*testing.T]string{}
	return func(t *testing.T) store.Store {
		mu.Lock()
		path, ok := paths[t]
		if !ok {
			path = filepath.Join(t.TempDir(), "lattice.db")
			paths[t] = path
		}
		mu.Unlock()
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, opener())
}
