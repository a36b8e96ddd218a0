package web

import (
	"strings"
	"unicode/utf8"
)

// decodeFlat decodes the frames clients send all the time, a JSON object
// whose values are plain strings ({"type":"message","text":"hi"}),
// without encoding/json. It reports false for anything else, and for
// anything it is not sure to decode exactly as encoding/json would (an
// escape in a string, invalid UTF-8, a key that matches a field only
// case-insensitively, a frame that is an error): DecodeFrame then takes
// the general path.
func decodeFlat(data []byte) (Frame, bool) {
	var typ, text, name []byte
	var hasText, hasName bool
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return Frame{}, false
	}
	i = skipSpace(data, i+1)
	for {
		key, j, ok := flatString(data, i)
		if !ok {
			return Frame{}, false
		}
		if i = skipSpace(data, j); i >= len(data) || data[i] != ':' {
			return Frame{}, false
		}
		val, j, ok := flatString(data, skipSpace(data, i+1))
		if !ok {
			return Frame{}, false // not a string: a payload, null, ...
		}
		switch string(key) {
		case "type":
			typ = val
		case "text":
			text, hasText = val, true
		case "name":
			name, hasName = val, true
		default:
			if k := string(key); strings.EqualFold(k, "type") || strings.EqualFold(k, "text") ||
				strings.EqualFold(k, "name") || strings.EqualFold(k, "payload") {
				return Frame{}, false
			}
		}
		if i = skipSpace(data, j); i >= len(data) {
			return Frame{}, false
		}
		if data[i] == ',' {
			i = skipSpace(data, i+1)
			continue
		}
		if data[i] != '}' || skipSpace(data, i+1) != len(data) {
			return Frame{}, false
		}
		break
	}
	switch string(typ) {
	case frameMessage:
		if hasText {
			return Frame{Type: frameMessage, Text: string(text)}, true
		}
	case frameEvent:
		if hasName && len(name) > 0 {
			return Frame{Type: frameEvent, Name: string(name)}, true
		}
	case frameHello:
		return Frame{Type: frameHello}, true
	case frameWelcomeBack:
		return Frame{Type: frameWelcomeBack}, true
	case frameRestart:
		return Frame{Type: frameRestart}, true
	}
	return Frame{}, false
}

// flatString reads a JSON string without escapes at data[i:], returning
// its bytes and the index after it.
func flatString(data []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, 0, false
	}
	ascii := true
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			s = data[i+1 : j]
			if !ascii && !utf8.Valid(s) {
				return nil, 0, false
			}
			return s, j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, 0, false
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
