package pgtest

import (
	"errors"
	"sync"
	"testing"
)

// Lazy is one server shared by a package's tests, started by the first
// test that needs it (a package whose other tests, or whose re-executed
// child processes, need none starts none). TestMain calls Stop after
// m.Run.
//
//	var pg pgtest.Lazy
//	func TestMain(m *testing.M) { code := m.Run(); pg.Stop(); os.Exit(code) }
//	url := pg.Get(t).NewDatabase(t)
type Lazy struct {
	Options Options

	once sync.Once
	srv  *Server
	err  error
}

// Get returns the server, starting it on first use. Without PostgreSQL
// binaries it skips tb with a message; another failure to start fails tb.
func (l *Lazy) Get(tb testing.TB) *Server {
	tb.Helper()
	l.once.Do(func() { l.srv, l.err = Start(l.Options) })
	switch {
	case errors.Is(l.err, ErrNoBinaries):
		tb.Skipf("no PostgreSQL server for this test: %v", l.err)
	case l.err != nil:
		tb.Fatal(l.err)
	}
	return l.srv
}

// Stop stops the server if it was started.
func (l *Lazy) Stop() {
	l.once.Do(func() {}) // no start after Stop
	if l.srv != nil {
		l.srv.Stop()
	}
}
