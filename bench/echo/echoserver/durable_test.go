package echoserver

import (
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// TestDurableEcho: every reply of the durable echo comes after its message
// is in the log file; concurrent clients share syncs; Close syncs the rest
// and later appends are refused.
func TestDurableEcho(t *testing.T) {
	path := filepath.Join(t.TempDir(), "echo.log")
	log, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(DurableHandler(log))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/echo"

	const clients, messages = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Go(func() { errs <- echoClient(url, path, c, messages) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	if err := log.Append([]byte("late")); !errors.Is(err, ErrLogClosed) {
		t.Errorf("Append after Close: %v, want ErrLogClosed", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(raw), "\n"); lines != clients*messages {
		t.Errorf("the log has %d lines, want %d", lines, clients*messages)
	}
}

// echoClient sends messages one at a time and checks that each reply's
// text is already in the log.
func echoClient(url, path string, client, messages int) error {
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, _, err := conn.ReadMessage(); err != nil { // the welcome
		return err
	}
	for i := range messages {
		msg := fmt.Sprintf("client %d message %d", client, i)
		if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			return err
		}
		_, reply, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		if string(reply) != msg {
			return fmt.Errorf("reply %q to %q", reply, msg)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !strings.Contains(string(raw), msg+"\n") {
			return fmt.Errorf("%q was answered before it was in the log", msg)
		}
	}
	return nil
}
