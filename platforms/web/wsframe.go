package web

import (
	"encoding/binary"
	"unicode/utf8"
)

// Server frames are written by the platform itself, not by gorilla: a
// frame is encoded once, as the complete bytes of a websocket text frame
// (RFC 6455 §5.2: FIN, opcode 1, unmasked, the payload length), and every
// connection of the conversation writes those bytes as they are.

// frameRoom is the space reserved before a payload for its frame header.
const frameRoom = 10

// newFrame returns an empty frame buffer: header room, then room for a
// payload of about n bytes. Append the payload, then call finishFrame.
func newFrame(n int) []byte { return make([]byte, frameRoom, frameRoom+n) }

// finishFrame writes the header of b's payload (what follows frameRoom)
// just before it and returns the frame.
func finishFrame(b []byte) []byte {
	n := len(b) - frameRoom
	var h int
	switch {
	case n <= 125:
		h = 2
		b[frameRoom-1] = byte(n)
	case n <= 0xffff:
		h = 4
		b[frameRoom-3] = 126
		binary.BigEndian.PutUint16(b[frameRoom-2:], uint16(n))
	default:
		h = 10
		b[frameRoom-9] = 127
		binary.BigEndian.PutUint64(b[frameRoom-8:], uint64(n))
	}
	b[frameRoom-h] = 0x81 // FIN, text
	return b[frameRoom-h:]
}

// textFrame returns the frame of a JSON payload.
func textFrame(payload []byte) []byte {
	return finishFrame(append(newFrame(len(payload)), payload...))
}

// appendJSONString appends s as a JSON string exactly as encoding/json
// writes it (HTML-safe: <, > and & escaped; U+2028 and U+2029 escaped;
// invalid UTF-8 as U+FFFD).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
