package echoserver

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"syscall"
)

// ErrLogClosed is returned by Log.Append after Close.
var ErrLogClosed = errors.New("echoserver: log closed")

// Log is an append-only file whose appends return once an fdatasync covers
// them. Appends that arrive while a sync runs wait together for the next
// one (group commit): one write and one fdatasync per group, the least a
// server must do before it may answer that a message is on disk.
type Log struct {
	f    *os.File
	wake chan struct{} // capacity 1: "appends are waiting"
	done chan struct{} // closed when the syncer has stopped

	mu     sync.Mutex
	buf    []byte // appended since the current group began
	group  *group // the group the next append joins
	closed bool
}

// group is the appends one sync covers.
type group struct {
	synced chan struct{} // closed once err is set
	err    error
}

func newGroup() *group { return &group{synced: make(chan struct{})} }

// OpenLog creates (or truncates) the file at path and starts its syncer.
func OpenLog(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("echoserver: cannot open log: %w", err)
	}
	l := &Log{f: f, wake: make(chan struct{}, 1), done: make(chan struct{}), group: newGroup()}
	go l.run()
	return l, nil
}

// Append adds p and a newline to the log and returns once they are synced.
func (l *Log) Append(p []byte) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrLogClosed
	}
	l.buf = append(append(l.buf, p...), '\n')
	g := l.group
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	<-g.synced
	return g.err
}

// run writes and syncs each group in turn until Close.
func (l *Log) run() {
	defer close(l.done)
	var spare []byte
	for range l.wake {
		l.mu.Lock()
		buf, g, closed := l.buf, l.group, l.closed
		l.buf, l.group = spare[:0], newGroup()
		l.mu.Unlock()
		if len(buf) > 0 {
			_, g.err = l.f.Write(buf)
			if g.err == nil {
				g.err = syscall.Fdatasync(int(l.f.Fd()))
			}
		}
		close(g.synced)
		spare = buf
		if closed {
			return
		}
	}
}

// Close syncs what was appended, stops the syncer and closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	select { // a pending signal does as well: the syncer sees closed after it
	case l.wake <- struct{}{}:
	default:
	}
	<-l.done
	return l.f.Close()
}

// DurableHandler is Handler with every text frame appended to log, and
// written back only once it is synced.
func DurableHandler(log *Log) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serve(w, r, log) })
}
