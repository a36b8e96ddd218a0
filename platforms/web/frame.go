package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"botserver"
)

// Client frame types.
const (
	frameMessage     = "message"
	frameEvent       = "event"
	frameHello       = "hello"
	frameWelcomeBack = "welcome_back"
	frameProfile     = "profile"
	frameRestart     = "restart"
)

// Frame is a decoded client frame.
type Frame struct {
	Type    string // "message", "event", "profile", "restart", "hello" or "welcome_back"
	Text    string // message
	Name    string // event; profile: the display name (checked: see checkName)
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
	case frameProfile:
		if raw.Name == nil {
			return Frame{}, fmt.Errorf("%w: a profile needs \"name\"", ErrBadFrame)
		}
		name, err := checkName(*raw.Name)
		if err != nil {
			return Frame{}, err
		}
		f.Name = name
	case frameHello, frameWelcomeBack, frameRestart:
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
	Title string `json:"title"`
	Group string `json:"group,omitempty"`
	Name  string `json:"name,omitempty"`
	TS    int64  `json:"ts"`
}

type quickReply struct {
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

// frameMeta ends every server frame but the welcome: who sent it (a
// user's message or event has "from":"user"), whether it is replayed
// history, and when its turn ran (Unix milliseconds).
type frameMeta struct {
	From    string `json:"from,omitempty"`
	History bool   `json:"history,omitempty"`
	TS      int64  `json:"ts"`
}

type messageFrame struct {
	Type         string       `json:"type"`
	Text         string       `json:"text"`
	Ask          bool         `json:"ask,omitempty"`
	QuickReplies []quickReply `json:"quick_replies,omitempty"`
	frameMeta
}

type imageFrame struct {
	Type string `json:"type"`
	URL  string `json:"url"`
	frameMeta
}

type typingFrame struct {
	Type    string  `json:"type"`
	Seconds float64 `json:"seconds"`
	frameMeta
}

type eventFrame struct {
	Type    string `json:"type"`
	Name    string `json:"name"`
	Payload any    `json:"payload"`
	frameMeta
}

type errorFrame struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	TS      int64  `json:"ts"`
}

type restartFrame struct {
	Type string `json:"type"`
	TS   int64  `json:"ts"`
}

// Error codes of error frames.
const (
	codeBadFrame       = "bad_frame"
	codeNoSuchGroup    = "no_such_group"
	codeBotUnavailable = "bot_unavailable"
	codeFatalNoBot     = "fatal_unknown_bot"
	codeRateLimited    = "rate_limited"
)

// encodeOutgoing returns the websocket frame of a bot's message (or, with
// FromUser, of the user's own), marked as history if it is.
func encodeOutgoing(out *botserver.Outgoing, history bool) ([]byte, error) {
	payload, err := marshalOutgoing(out, history)
	if err != nil {
		return nil, err
	}
	return textFrame(payload), nil
}

// HistoryFrame returns the JSON of a history frame as a resumed client
// receives it (the admin API's history method shows them).
func HistoryFrame(out botserver.Outgoing) ([]byte, error) { return marshalOutgoing(&out, true) }

// marshalOutgoing returns the JSON of a frame.
func marshalOutgoing(out *botserver.Outgoing, history bool) ([]byte, error) {
	meta := frameMeta{History: history, TS: out.TS.UnixMilli()}
	if out.FromUser {
		meta.From = "user"
	}
	switch out.Kind {
	case botserver.OutImage:
		return json.Marshal(imageFrame{Type: "image", URL: out.URL, frameMeta: meta})
	case botserver.OutTyping:
		return json.Marshal(typingFrame{Type: "typing", Seconds: out.Seconds, frameMeta: meta})
	case botserver.OutEvent:
		return json.Marshal(eventFrame{Type: "event", Name: out.Name, Payload: out.Payload, frameMeta: meta})
	case botserver.OutRestart:
		return json.Marshal(restartFrame{Type: "restart", TS: meta.TS})
	}
	f := messageFrame{Type: "message", Text: out.Text, Ask: out.Ask, frameMeta: meta}
	for i, q := range out.QuickReplies {
		payload := q
		if len(out.QuickReplyValues) == len(out.QuickReplies) {
			payload = out.QuickReplyValues[i]
		}
		f.QuickReplies = append(f.QuickReplies, quickReply{Title: q, Payload: payload})
	}
	return json.Marshal(f)
}

// encodeLive returns the frame of a live bot message; the common one, a
// message without quick replies, is encoded directly.
func encodeLive(out *botserver.Outgoing) ([]byte, error) {
	if out.Kind == botserver.OutError {
		return encodeError(out.Code, out.Text), nil
	}
	if out.Kind == botserver.OutText && len(out.QuickReplies) == 0 && !out.FromUser {
		return encodeText(out.Text, out.Ask, out.TS.UnixMilli()), nil
	}
	return encodeOutgoing(out, false)
}

// encodeText is the frame of a message without quick replies, encoded
// directly (the bytes json.Marshal gives for its messageFrame).
func encodeText(text string, ask bool, ts int64) []byte {
	b := newFrame(len(text) + 56)
	b = append(b, `{"type":"message","text":`...)
	b = appendJSONString(b, text)
	if ask {
		b = append(b, `,"ask":true`...)
	}
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, ts, 10)
	return finishFrame(append(b, '}'))
}

// encodeError returns the frame of an error.
func encodeError(code, msg string) []byte {
	b, _ := json.Marshal(errorFrame{Type: "error", Code: code, Message: msg, TS: time.Now().UnixMilli()})
	return textFrame(b)
}

// MaxNameLength is the longest display name, in characters.
const MaxNameLength = 64

// checkName returns a display name without surrounding space, or an error
// wrapping ErrBadFrame: a name has 1 to MaxNameLength characters, none of
// them a control character.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", fmt.Errorf("%w: a name must not be empty", ErrBadFrame)
	case n > MaxNameLength:
		return "", fmt.Errorf("%w: a name has at most %d characters", ErrBadFrame, MaxNameLength)
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", fmt.Errorf("%w: a name must be text without control characters", ErrBadFrame)
	}
	return name, nil
}
