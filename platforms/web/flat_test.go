package web

import (
	"encoding/json"
	"testing"
)

// decodeGeneral is DecodeFrame without the flat fast path.
func decodeGeneral(data []byte) (Frame, bool) {
	var raw rawFrame
	if json.Unmarshal(data, &raw) != nil || raw.Type == nil {
		return Frame{}, false
	}
	f := Frame{Type: *raw.Type}
	if raw.Text != nil {
		f.Text = *raw.Text
	}
	if raw.Name != nil {
		f.Name = *raw.Name
	}
	return f, len(raw.Payload) == 0
}

// FuzzDecodeFlat: whatever the fast path decodes, encoding/json decodes to
// the same frame.
func FuzzDecodeFlat(f *testing.F) {
	for _, s := range []string{
		`{"type":"message","text":"hi"}`, ` { "type" : "message" , "text" : "hé" } `, `{"text":"a","type":"message"}`,
		`{"type":"message","text":"a","text":"b"}`, `{"type":"message","Text":"a"}`, `{"type":"message","text":"a","user":"x"}`,
		`{"type":"event","name":"e"}`, `{"type":"hello"}`, `{"type":"welcome_back","user":"x"}`, `{"type":"message"}`,
		`{"type":"message","text":"a\"b"}`, `{"type":"message","text":"\xff"}`, `{"type":"message","text":"a"} x`,
		`{"type":"message","text":"a",}`, `{}`, `{"TYPE":"hello"}`, `{"type":"message","text":"<&>"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := decodeFlat(data)
		if !ok {
			return
		}
		want, ok := decodeGeneral(data)
		if !ok || fast.Type != want.Type || fast.Text != want.Text || fast.Name != want.Name || fast.Payload != nil {
			t.Fatalf("decodeFlat(%q) = %+v; encoding/json gives %+v (ok %v)", data, fast, want, ok)
		}
		if full, err := DecodeFrame(data); err != nil || full != fast {
			t.Fatalf("DecodeFrame(%q) = %+v, %v; want %+v", data, full, err, fast)
		}
	})
}

func TestDecodeFlatTakesCommonFrames(t *testing.T) {
	for _, s := range []string{`{"type":"message","text":"hi there"}`, `{"type":"hello"}`, `{"type":"event","name":"clicked"}`} {
		if _, ok := decodeFlat([]byte(s)); !ok {
			t.Errorf("%s takes the general path", s)
		}
	}
}

// TestEncodeTextMatchesJSON: the directly encoded message frame has the
// bytes encoding/json gives.
func TestEncodeTextMatchesJSON(t *testing.T) {
	for _, text := range []string{"", "hi", `a"b\c`, "<script>&</script>", "tab\there\nnew\rline\b\f\x01\x1f", "héllo ✓", "\u2028\u2029", "bad \xff utf8 \xe2\x82", string(make([]byte, 200))} {
		for _, ask := range []bool{false, true} {
			want, _ := json.Marshal(messageFrame{Type: "message", Text: text, Ask: ask, frameMeta: frameMeta{TS: 1767268800123}})
			if got := encodeText(text, ask, 1767268800123); string(got) != string(textFrame(want)) {
				t.Errorf("encodeText(%q, %v) = %q, want the frame of %s", text, ask, got, want)
			}
		}
	}
}

// TestFrameHeader: the three length encodings of RFC 6455.
func TestFrameHeader(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		payload := make([]byte, n)
		f := textFrame(payload)
		if f[0] != 0x81 {
			t.Fatalf("%d bytes: first byte %#x, want FIN|text", n, f[0])
		}
		var length, header int
		switch l := int(f[1]); {
		case l <= 125:
			length, header = l, 2
		case l == 126:
			length, header = int(f[2])<<8|int(f[3]), 4
		default:
			for _, b := range f[2:10] {
				length = length<<8 | int(b)
			}
			header = 10
		}
		if length != n || len(f) != header+n || (n > 125 && header == 2) || (n > 65535 && header != 10) || (n <= 65535 && header == 10) {
			t.Errorf("%d bytes: header says %d in a %d-byte header, frame of %d bytes", n, length, header, len(f))
		}
	}
}
