package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"botserver"
)

// Client frame types.
const (
	frameMessage     = "message"
	frameEvent       = "event"
	frameHello       = "hello"
	frameWelcomeBack = "welcome_back"
)

// Frame is a decoded client frame.
type Frame struct {
	Type    string // "message", "event", "hello" or "welcome_back"
	Text    string // message
	Name    string // event
	Payload any    // event: JSON values (numbers as json.Number)
}

// ErrBadFrame is wrapped by every DecodeFrame error.
var ErrBadFrame = errors.New("bad frame")

type rawFrame struct {
	Type    *string         `json:"type"`
	Text    *string         `json:"text"`
	Name    *string         `json:"name"`
	Payload json.RawMessage `json:"payload"`
}

// DecodeFrame decodes one client text frame. It returns an error wrapping
// ErrBadFrame, with a message for the client, when data is not a JSON
// object, has an unknown type or lacks a required field. Other fields (a
// "user" among them) are ignored.
func DecodeFrame(data []byte) (Frame, error) {
	if f, ok := decodeFlat(data); ok {
		return f, nil
	}
	var raw rawFrame
	if err := json.Unmarshal(data, &raw); err != nil {
		return Frame{}, fmt.Errorf("%w: not a JSON object: %v", ErrBadFrame, jsonError(err))
	}
	if raw.Type == nil {
		return Frame{}, fmt.Errorf("%w: missing \"type\"", ErrBadFrame)
	}
	f := Frame{Type: *raw.Type}
	switch f.Type {
	case frameMessage:
		if raw.Text == nil {
			return Frame{}, fmt.Errorf("%w: a message needs \"text\"", ErrBadFrame)
		}
		f.Text = *raw.Text
	case frameEvent:
		if raw.Name == nil || *raw.Name == "" {
			return Frame{}, fmt.Errorf("%w: an event needs \"name\"", ErrBadFrame)
		}
		f.Name = *raw.Name
		if len(raw.Payload) > 0 {
			d := json.NewDecoder(bytes.NewReader(raw.Payload))
			d.UseNumber()
			if err := d.Decode(&f.Payload); err != nil {
				return Frame{}, fmt.Errorf("%w: bad payload: %v", ErrBadFrame, jsonError(err))
			}
		}
	case frameHello, frameWelcomeBack:
	default:
		return Frame{}, fmt.Errorf("%w: unknown type %.40q", ErrBadFrame, f.Type)
	}
	return f, nil
}

// jsonError shortens encoding/json's messages for clients.
func jsonError(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field != "" {
			return fmt.Sprintf("%q must not be a %s", typeErr.Field, typeErr.Value)
		}
		return "a " + typeErr.Value + " is not an object"
	}
	return err.Error()
}

// Server frames.

type welcomeFrame struct {
	Type  string `json:"type"`
	User  string `json:"user"`
	Token string `json:"token"`
	Bot   string `json:"bot"`
	Group string `json:"group,omitempty"`
}

type quickReply struct {
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

type messageFrame struct {
	Type         string       `json:"type"`
	Text         string       `json:"text"`
	Ask          bool         `json:"ask,omitempty"`
	QuickReplies []quickReply `json:"quick_replies,omitempty"`
}

type imageFrame struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type typingFrame struct {
	Type    string  `json:"type"`
	Seconds float64 `json:"seconds"`
}

type eventFrame struct {
	Type    string `json:"type"`
	Name    string `json:"name"`
	Payload any    `json:"payload"`
}

type errorFrame struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error codes of error frames.
const (
	codeBadFrame       = "bad_frame"
	codeNoSuchGroup    = "no_such_group"
	codeBotUnavailable = "bot_unavailable"
	codeFatalNoBot     = "fatal_unknown_bot"
)

// encodeOutgoing returns the websocket frame of a bot's message.
func encodeOutgoing(out botserver.Outgoing) ([]byte, error) {
	var payload []byte
	var err error
	switch out.Kind {
	case botserver.OutImage:
		payload, err = json.Marshal(imageFrame{Type: "image", URL: out.URL})
	case botserver.OutTyping:
		payload, err = json.Marshal(typingFrame{Type: "typing", Seconds: out.Seconds})
	case botserver.OutEvent:
		payload, err = json.Marshal(eventFrame{Type: "event", Name: out.Name, Payload: out.Payload})
	default:
		if len(out.QuickReplies) == 0 {
			return encodeText(out.Text, out.Ask), nil
		}
		f := messageFrame{Type: "message", Text: out.Text, Ask: out.Ask}
		for _, q := range out.QuickReplies {
			f.QuickReplies = append(f.QuickReplies, quickReply{Title: q, Payload: q})
		}
		payload, err = json.Marshal(f)
	}
	if err != nil {
		return nil, err
	}
	return textFrame(payload), nil
}

// encodeText is the frame of a message without quick replies, encoded
// directly (the bytes json.Marshal gives for its messageFrame).
func encodeText(text string, ask bool) []byte {
	b := newFrame(len(text) + 40)
	b = append(b, `{"type":"message","text":`...)
	b = appendJSONString(b, text)
	if ask {
		b = append(b, `,"ask":true`...)
	}
	return finishFrame(append(b, '}'))
}

// encodeError returns the frame of an error.
func encodeError(code, msg string) []byte {
	b, _ := json.Marshal(errorFrame{Type: "error", Code: code, Message: msg})
	return textFrame(b)
}
