package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// httpEndpoint is the Endpoint of the actor tree (an actors.Service): the
// HTTP listener. The superintendent starts it once the config is valid and
// restarts it when it stops serving; a restart listens on the address the
// first start got (a port 0 stays the same), so links keep working.
type httpEndpoint struct {
	handler http.Handler
	log     *slog.Logger

	mu   sync.Mutex
	addr string // what to listen on: Config.Listen, then the address got
	ln   net.Listener
	srv  *http.Server
	done chan struct{} // closed when Serve has returned
}

// Start listens and serves in its own goroutine; failed is called if
// Serve ends for any other reason than Stop or Shutdown.
func (e *httpEndpoint) Start(failed func(error)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	ln, err := net.Listen("tcp", e.addr)
	if err != nil {
		return fmt.Errorf("listen: %q cannot be used: %w", e.addr, err)
	}
	srv := &http.Server{Handler: e.handler, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(e.log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	e.addr, e.ln, e.srv, e.done = ln.Addr().String(), ln, srv, done
	go func() {
		err := srv.Serve(ln)
		close(done)
		if !errors.Is(err, http.ErrServerClosed) {
			failed(err)
		}
	}()
	return nil
}

// Stop closes the listener and every connection at once (the tree stops,
// or restarts a failed endpoint); Shutdown is the graceful way.
func (e *httpEndpoint) Stop() {
	srv, done := e.take()
	if srv != nil {
		srv.Close()
		<-done
	}
}

// Shutdown stops accepting and waits, until ctx ends, for the requests in
// flight (http.Server.Shutdown). Websockets are the platforms' to close.
func (e *httpEndpoint) Shutdown(ctx context.Context) error {
	srv, done := e.take()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	<-done
	return err
}

// take returns the running server and forgets it.
func (e *httpEndpoint) take() (*http.Server, chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	srv, done := e.srv, e.done
	e.srv, e.done = nil, nil
	return srv, done
}

// Addr is the address the endpoint listens on.
func (e *httpEndpoint) Addr() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addr
}
