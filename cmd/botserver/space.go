package main

import (
	"errors"
	"net/http"

	"botserver/persistence"
)

// The data dir's free space. Below the store's MinFreeSpace it refuses
// writes (persistence.ErrNoSpace, logged by the store); meanwhile the
// runtime takes no turns (users are told: web server_unavailable), a write
// refused all the same does not count toward a quarantine, /readyz answers
// 503, and /metrics shows it. Everything resumes when space is back.

var errLowSpace = errors.New("the data dir is low on space")

// onSpace is persistence.Options.OnSpace.
func (m *Main) onSpace(st persistence.SpaceState) { m.lowSpace.Store(st.Low) }

// unavailable is actors.Options.Unavailable.
func (m *Main) unavailable() error {
	if m.lowSpace.Load() {
		return errLowSpace
	}
	return m.clusterUnavailable()
}

// passing is actors.Options.Passing: out of space passes.
func passing(err error) bool { return errors.Is(err, persistence.ErrNoSpace) }

// notReady answers /readyz with 503 while the server is starting, shutting
// down or low on space; false when it is ready.
func (m *Main) notReady(w http.ResponseWriter) bool {
	switch {
	case !m.ready.Load():
		http.Error(w, "not ready", http.StatusServiceUnavailable)
	case m.lowSpace.Load():
		http.Error(w, "not ready: the data dir is low on space", http.StatusServiceUnavailable)
	case m.clusterUnavailable() != nil:
		http.Error(w, "not ready: "+m.clusterUnavailable().Error(), http.StatusServiceUnavailable)
	default:
		return false
	}
	return true
}
