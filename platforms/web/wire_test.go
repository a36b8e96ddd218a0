package web

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestWireKeepsOrder: frames sent faster than the peer reads go out whole
// and in order, whether they were written at once, in part, or by the
// flusher; control writes (Write) slot in between frames, never inside one.
func TestWireKeepsOrder(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	server := <-accepted
	w := newWire(server)
	w.setup(10*time.Second, func() { t.Error("write failed") })

	const frames = 400 // about 8 MB: more than the sockets hold before the peer reads
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // control frames from another goroutine, as gorilla's pings
		defer wg.Done()
		for i := 0; i < 50; i++ {
			if _, err := w.Write([]byte{0x89, 0}); err != nil {
				t.Error(err)
				return
			}
			runtime.Gosched() // interleave with the frames
		}
	}()
	for i := 0; i < frames; i++ {
		payload := []byte(fmt.Sprintf("%05d:%s", i, make([]byte, size(i))))
		if st := w.send(textFrame(payload), frames+1); st != sendOK {
			t.Fatalf("frame %d: status %d", i, st)
		}
	}
	wg.Wait()
	w.mu.Lock()
	behind := w.flushing
	w.mu.Unlock()

	r := bufio.NewReader(peer)
	next, pings := 0, 0
	for next < frames || pings < 50 {
		var h [2]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			t.Fatalf("after %d frames and %d pings: %v", next, pings, err)
		}
		n := int(h[1])
		switch n {
		case 126:
			var l [2]byte
			io.ReadFull(r, l[:])
			n = int(binary.BigEndian.Uint16(l[:]))
		case 127:
			var l [8]byte
			io.ReadFull(r, l[:])
			n = int(binary.BigEndian.Uint64(l[:]))
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			t.Fatal(err)
		}
		switch h[0] {
		case 0x89:
			pings++
		case 0x81:
			if want := fmt.Sprintf("%05d:", next); string(body[:6]) != want || n != 6+size(next) {
				t.Fatalf("frame %d: got %q, %d bytes", next, body[:6], n)
			}
			next++
		default:
			t.Fatalf("frame header %#x: a frame was cut", h[0])
		}
	}
	w.shutdown(time.Second)
	if !behind {
		t.Skip("the sockets took everything at once: the flusher was not exercised")
	}
}

// size varies the frames' lengths over the three header forms.
func size(i int) int { return []int{10, 200, 20000, 70000}[i%4] }
