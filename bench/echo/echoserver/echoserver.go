package echoserver

import (
	"net/http"
	"strings"

	"github.com/gorilla/websocket"
)

// Welcome is the first frame sent on every connection.
const Welcome = `{"type":"welcome","user":"web:echo","token":"x","bot":"echo"}`

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	// Benchmark tool bound to loopback: accept any origin.
	CheckOrigin: func(*http.Request) bool { return true },
}

// Handler returns the echo handler. It serves GET /ws/{anything}; every
// other path is 404.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serve(w, r, nil) })
}

// serve echoes the frames of one connection; with a log, each frame is
// appended to it first and written back once it is synced.
func serve(w http.ResponseWriter, r *http.Request, log *Log) {
	if !strings.HasPrefix(r.URL.Path, "/ws/") || len(r.URL.Path) == len("/ws/") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has already written the error response.
	}
	defer conn.Close()
	if err := conn.WriteMessage(websocket.TextMessage, []byte(Welcome)); err != nil {
		return
	}
	for {
		typ, data, err := conn.ReadMessage()
		if err != nil {
			return // includes the peer's close frame; gorilla echoes it.
		}
		if typ != websocket.TextMessage {
			continue
		}
		if log != nil && log.Append(data) != nil {
			return
		}
		if err := conn.WriteMessage(websocket.TextMessage, data); err != nil {
			return
		}
	}
}
