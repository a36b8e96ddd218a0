package web

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// batchConn lets the writer send several frames in one system call: while
// held, writes (gorilla's frames, and control frames from other
// goroutines) collect in a buffer that flush writes at once. A reply and
// the bot's next question then cost one write instead of two.
type batchConn struct {
	net.Conn
	mu   sync.Mutex
	held bool
	buf  []byte
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.held {
		c.buf = append(c.buf, p...)
		c.mu.Unlock()
		return len(p), nil
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// hold starts collecting writes.
func (c *batchConn) hold() {
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
}

// flush writes what was collected and stops collecting.
func (c *batchConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = false
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > 64<<10 {
		c.buf = nil // do not keep a burst's buffer for an idle connection
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// hijacker hands the websocket upgrader a batchConn instead of the raw
// connection.
type hijacker struct {
	http.ResponseWriter
	conn *batchConn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &batchConn{Conn: c}
	brw.Writer.Reset(h.conn)
	return h.conn, brw, nil
}
