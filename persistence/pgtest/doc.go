// Package pgtest starts a throwaway PostgreSQL server for tests: initdb
// in a temporary directory, listening on 127.0.0.1 and a free port with
// its unix socket in that directory, stopped and deleted by Stop. It uses
// the Debian binaries (/usr/lib/postgresql/*/bin, or initdb on PATH); when
// they are absent, Start returns ErrNoBinaries and tests skip. Running as
// root, the server runs as the "postgres" user (initdb refuses root).
//
//	func TestMain(m *testing.M) {
//		srv, err := pgtest.Start(pgtest.Options{})
//		... code := m.Run(); srv.Stop(); os.Exit(code)
//	}
//	url := srv.URL("postgres") // or srv.NewDatabase(tb)
//
// Lazy starts the server at the first test that asks for it instead.
package pgtest
