package web

import (
	"botserver"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestDecodeFrame(t *testing.T) {
	cases := []struct {
		name, data string
		want       Frame
	}{
		{"message", `{"type":"message","text":"hi"}`, Frame{Type: "message", Text: "hi"}},
		{"message with a user field", `{"type":"message","text":"hi","user":"web:x"}`, Frame{Type: "message", Text: "hi"}},
		{"empty text", `{"type":"message","text":""}`, Frame{Type: "message"}},
		{"event", `{"type":"event","name":"clicked"}`, Frame{Type: "event", Name: "clicked"}},
		{"event with payload", `{"type":"event","name":"n","payload":7}`, Frame{Type: "event", Name: "n", Payload: json.Number("7")}},
		{"hello", `{"type":"hello"}`, Frame{Type: "hello"}},
		{"welcome_back", `{"type":"welcome_back","user":"x"}`, Frame{Type: "welcome_back"}},
		{"profile", `{"type":"profile","name":" Ann \t"}`, Frame{Type: "profile", Name: "Ann"}},
		{"restart", `{"type":"restart"}`, Frame{Type: "restart"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeFrame([]byte(tc.data))
			if err != nil || got.Type != tc.want.Type || got.Text != tc.want.Text || got.Name != tc.want.Name || got.Payload != tc.want.Payload {
				t.Errorf("DecodeFrame(%s) = %+v, %v; want %+v", tc.data, got, err, tc.want)
			}
		})
	}
}

// FuzzDecodeFrame: any input decodes to a known frame or a bad_frame error
// with a short, valid message; never a panic.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"message","text":"hi"}`, `{"type":"event","name":"e","payload":{"a":[1,2.5,"x",null,true]}}`,
		`{"type":"hello"}`, `{"type":"welcome_back"}`, `hello`, `[]`, `{"type":5}`, `{"type":"message","text":null}`,
		`{"type":"event","name":"","payload":{}}`, `{"type":"message","text":"\ud800"}`, `{"type":"` + string(rune(0xfffd)) + `"}`,
		`{"type":"event","name":"e","payload":1e400}`, `{"type":"message","text":"a","text":"b"}`,
		`{"type":"profile","name":"Ann"}`, `{"type":"profile","name":""}`, `{"type":"restart"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := DecodeFrame(data)
		if err != nil {
			if !errors.Is(err, ErrBadFrame) {
				t.Fatalf("error %v does not wrap ErrBadFrame", err)
			}
			if fr != (Frame{}) {
				t.Fatalf("error with a frame %+v", fr)
			}
			return
		}
		switch fr.Type {
		case frameMessage, frameHello, frameWelcomeBack, frameRestart:
		case frameProfile:
			if _, err := checkName(fr.Name); err != nil || strings.TrimSpace(fr.Name) != fr.Name {
				t.Fatalf("profile with the name %q: %v", fr.Name, err)
			}
		case frameEvent:
			if fr.Name == "" {
				t.Fatal("event without a name")
			}
		default:
			t.Fatalf("decoded unknown type %q", fr.Type)
		}
		if !utf8.ValidString(fr.Text) {
			t.Fatalf("text %q is not UTF-8", fr.Text)
		}
	})
}

func TestHistoryFrame(t *testing.T) {
	ts := time.UnixMilli(1767268800123)
	for _, tc := range []struct {
		out  botserver.Outgoing
		want string
	}{
		{botserver.Outgoing{Kind: botserver.OutText, Text: "Pick", Ask: true, QuickReplies: []string{"A"}, TS: ts},
			`{"type":"message","text":"Pick","ask":true,"quick_replies":[{"title":"A","payload":"A"}],"history":true,"ts":1767268800123}`},
		{botserver.Outgoing{Kind: botserver.OutText, Text: "hi", FromUser: true, TS: ts},
			`{"type":"message","text":"hi","from":"user","history":true,"ts":1767268800123}`},
		{botserver.Outgoing{Kind: botserver.OutImage, URL: "https://x/a.png", TS: ts},
			`{"type":"image","url":"https://x/a.png","history":true,"ts":1767268800123}`},
		{botserver.Outgoing{Kind: botserver.OutEvent, Name: "score", Payload: map[string]any{"n": 1}, TS: ts},
			`{"type":"event","name":"score","payload":{"n":1},"history":true,"ts":1767268800123}`},
	} {
		got, err := HistoryFrame(tc.out)
		if err != nil || string(got) != tc.want {
			t.Errorf("HistoryFrame(%+v) = %s, %v\nwant %s", tc.out, got, err, tc.want)
		}
	}
}
