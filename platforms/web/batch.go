package web

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// wire is the write side of a connection. Every byte for the client goes
// through it, and no caller ever waits on the client:
//
//   - when nothing is pending, a frame is written at once by the caller with
//     a non-blocking system call (the actor that releases a reply writes it
//     itself: no goroutine is started or woken for it);
//   - what the socket does not take is queued, and a flusher goroutine,
//     which runs only while bytes are pending, writes it with a deadline;
//     frames queued meanwhile follow it, in order;
//   - gorilla's own writes (the handshake, and ping, pong and close frames
//     from any goroutine) come through Write and take the same path, so
//     frames never interleave; gorilla's write deadlines are ignored: the
//     flusher applies its own.
//
// So a client that stops reading costs only memory, bounded by the
// platform's send buffer (counted in data frames), and is then dropped.
type wire struct {
	net.Conn
	rc   syscall.RawConn // nil when the connection has none (TLS): the flusher writes everything
	wait time.Duration   // bound on one blocking write of the flusher
	fail func()          // called on the flusher's goroutine when a write fails

	mu       sync.Mutex
	buf      []byte        // accepted, not yet written
	frames   int           // data frames accepted since the wire was last empty
	flushing bool          // the flusher owns the socket's writes
	flushed  chan struct{} // closed when the flusher ends (while flushing)
	closing  bool          // shutdown began: nothing more is accepted
	closeBy  time.Time     // the flusher's deadline once closing
	err      error         // the first write error; nothing is written after it

	writeOut func(fd uintptr) bool // writeNow, bound once
	out      []byte                // tryWrite's argument
	outN     int                   // and results
	outErr   error
}

func newWire(c net.Conn) *wire {
	w := &wire{Conn: c, wait: 10 * time.Second, fail: func() {}}
	w.writeOut = w.writeNow
	if sc, ok := c.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			w.rc = rc
		}
	}
	return w
}

// setup sets the flusher's write bound and what it calls when a write
// fails.
func (w *wire) setup(wait time.Duration, fail func()) {
	w.mu.Lock()
	w.wait, w.fail = wait, fail
	w.mu.Unlock()
}

// sendStatus is the outcome of wire.send.
type sendStatus uint8

const (
	sendOK     sendStatus = iota // written or queued
	sendFull                     // the client has too many frames pending
	sendFailed                   // the connection is broken
	sendClosed                   // the connection is closing
)

// send writes one complete websocket frame, or queues it; at most max
// data frames may be pending.
func (w *wire) send(frame []byte, max int) sendStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closing:
		return sendClosed
	case w.err != nil:
		return sendFailed
	case w.frames >= max:
		return sendFull
	}
	w.frames++
	if err := w.push(frame); err != nil {
		return sendFailed
	}
	return sendOK
}

// Write is gorilla's way out (handshake and control frames): p is written
// or queued as a whole.
func (w *wire) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.err != nil:
		return 0, w.err
	case w.closing:
		return 0, net.ErrClosed
	}
	if err := w.push(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// SetWriteDeadline ignores gorilla's deadlines: writes do not block, and
// the flusher sets its own.
func (w *wire) SetWriteDeadline(time.Time) error { return nil }

// push writes p, or what the socket does not take of it, behind what is
// pending (under mu).
func (w *wire) push(p []byte) error {
	if w.flushing {
		w.buf = append(w.buf, p...)
		return nil
	}
	n, err := w.tryWrite(p)
	if err != nil {
		w.err = err
		return err
	}
	if n == len(p) {
		w.frames = 0
		return nil
	}
	w.buf = append(w.buf, p[n:]...)
	w.flushing = true
	w.flushed = make(chan struct{})
	go w.flush()
	return nil
}

// tryWrite writes what the socket takes of p now, without waiting (under
// mu: the arguments and results pass through the wire, so that the
// callback is allocated once per connection, not once per write).
func (w *wire) tryWrite(p []byte) (written int, err error) {
	if w.rc == nil {
		return 0, nil
	}
	w.out, w.outN, w.outErr = p, 0, nil
	rerr := w.rc.Write(w.writeOut)
	written, err = w.outN, w.outErr
	w.out, w.outErr = nil, nil
	if err == nil {
		err = rerr
	}
	return written, err
}

// writeNow is tryWrite's callback: it writes w.out to fd until the socket
// is full.
func (w *wire) writeNow(fd uintptr) bool {
	for w.outN < len(w.out) {
		n, e := syscall.Write(int(fd), w.out[w.outN:])
		if n > 0 {
			w.outN += n
		}
		if e == syscall.EINTR || (e == nil && n > 0) {
			continue
		}
		if e != syscall.EAGAIN {
			w.outErr = e
		}
		break
	}
	return true // never wait: the flusher does
}

// flush is the flusher: it writes what is pending until nothing is.
func (w *wire) flush() {
	for {
		w.mu.Lock()
		b := w.buf
		if len(b) == 0 || w.err != nil {
			var fail func()
			if w.err != nil && !w.closing {
				fail = w.fail
			}
			if !w.closing {
				w.Conn.SetWriteDeadline(time.Time{}) // non-blocking writes check it
			}
			w.buf, w.frames, w.flushing = nil, 0, false
			close(w.flushed)
			w.flushed = nil
			w.mu.Unlock()
			if fail != nil {
				fail()
			}
			return
		}
		w.buf = nil
		deadline := time.Now().Add(w.wait)
		if w.closing {
			deadline = w.closeBy
		}
		w.Conn.SetWriteDeadline(deadline) // under mu: shutdown may shorten it
		w.mu.Unlock()
		if _, err := w.Conn.Write(b); err != nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
		}
	}
}

// shutdown stops accepting writes, lets what is pending go out for at
// most timeout, and closes the connection.
func (w *wire) shutdown(timeout time.Duration) {
	w.mu.Lock()
	w.closing, w.closeBy = true, time.Now().Add(timeout)
	if w.flushing {
		done := w.flushed
		w.Conn.SetWriteDeadline(w.closeBy) // bounds a write in progress
		w.mu.Unlock()
		<-done
	} else {
		w.mu.Unlock()
	}
	w.Conn.Close()
}

// hijacker hands the websocket upgrader a wire instead of the raw
// connection.
type hijacker struct {
	http.ResponseWriter
	conn *wire
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = newWire(c)
	brw.Writer.Reset(h.conn)
	return h.conn, brw, nil
}
