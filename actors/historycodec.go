package actors

import (
	"botserver"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"botserver/dsl"
	pb "botserver/proto"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The record of a turn's frames is stored as this protobuf message
// (written with protowire; a payload is a botserver.v1.Value):
//
//	message HistoryRecord {
//	  uint64 turn = 1;                   // the turn that wrote it: orders records
//	  repeated HistoryEntry entries = 11;
//	  uint64 input = 13;                 // the id of the input the turn handled (0: none)
//	}
//	message HistoryEntry {
//	  sint64 ts = 2;                     // Unix milliseconds
//	  uint32 kind = 3;                   // botserver.OutKind
//	  bool from_user = 4;
//	  string text = 5;
//	  bool ask = 6;
//	  repeated string quick_replies = 7;
//	  string url = 8;
//	  string name = 9;                   // an event's name
//	  botserver.v1.Value payload = 10;   // an event's payload
//	  repeated string quick_reply_values = 12; // parallel to quick_replies, when a reply sends a value
//	}
const (
	fTurn protowire.Number = iota + 1
	fTS
	fKind
	fFromUser
	fText
	fAsk
	fQuickReply
	fURL
	fName
	fPayload
	fEntry
	fQuickReplyValue
	fInput
)

// errBadEntry is wrapped by decodeRecord's errors.
var errBadEntry = errors.New("bad history record")

// encodeRecord returns the record of a turn's entries, without its
// earliest ones if they would take it past MaxHistoryRecord; input is the
// id of the input the turn handled (0: none).
func encodeRecord(turn, input uint64, entries []botserver.Outgoing) []byte {
	raw := make([][]byte, len(entries))
	size, first := 0, len(entries)
	for first > 0 {
		e := encodeEntry(nil, &entries[first-1])
		if size += len(e) + 8; size > MaxHistoryRecord {
			break
		}
		first--
		raw[first] = e
	}
	b := protowire.AppendTag(make([]byte, 0, size+12), fTurn, protowire.VarintType)
	b = protowire.AppendVarint(b, turn)
	for _, e := range raw[first:] {
		b = protowire.AppendTag(b, fEntry, protowire.BytesType)
		b = protowire.AppendBytes(b, e)
	}
	if input != 0 {
		b = protowire.AppendTag(b, fInput, protowire.VarintType)
		b = protowire.AppendVarint(b, input)
	}
	return b
}

// recordInput reads the id of the input a record's turn handled (0: none
// or unreadable).
func recordInput(raw []byte) uint64 {
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return 0
		}
		raw = raw[n:]
		if num == fInput && typ == protowire.VarintType {
			v, m := protowire.ConsumeVarint(raw)
			if m < 0 {
				return 0
			}
			return v
		}
		if n = protowire.ConsumeFieldValue(num, typ, raw); n < 0 {
			return 0
		}
		raw = raw[n:]
	}
	return 0
}

// recordTurn reads a record's turn (its first field); false if it has none.
func recordTurn(raw []byte) (uint64, bool) {
	num, typ, n := protowire.ConsumeTag(raw)
	if n < 0 || num != fTurn || typ != protowire.VarintType {
		return 0, false
	}
	turn, m := protowire.ConsumeVarint(raw[n:])
	return turn, m >= 0
}

// decodeRecord reads a record's entries; unknown fields are skipped.
func decodeRecord(raw []byte) ([]botserver.Outgoing, error) {
	var out []botserver.Outgoing
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return nil, fmt.Errorf("%w: %v", errBadEntry, protowire.ParseError(n))
		}
		raw = raw[n:]
		if num == fEntry && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(raw)
			if m < 0 {
				return nil, fmt.Errorf("%w: entry: %v", errBadEntry, protowire.ParseError(m))
			}
			e, err := decodeEntry(v)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
			n = m
		} else if n = protowire.ConsumeFieldValue(num, typ, raw); n < 0 {
			return nil, fmt.Errorf("%w: field %d: %v", errBadEntry, num, protowire.ParseError(n))
		}
		raw = raw[n:]
	}
	return out, nil
}

// encodeEntry appends the entry of out, cut to MaxHistoryText.
func encodeEntry(b []byte, out *botserver.Outgoing) []byte {
	b = protowire.AppendTag(b, fTS, protowire.VarintType)
	b = protowire.AppendVarint(b, protowire.EncodeZigZag(out.TS.UnixMilli()))
	b = protowire.AppendTag(b, fKind, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(out.Kind))
	b = appendBool(b, fFromUser, out.FromUser)
	b = appendString(b, fText, cut(out.Text, MaxHistoryText))
	b = appendBool(b, fAsk, out.Ask)
	b = appendQuickReplies(b, out)
	b = appendString(b, fURL, cut(out.URL, MaxHistoryText))
	b = appendString(b, fName, cut(out.Name, MaxHistoryText))
	if out.Payload != nil {
		if v, err := dsl.ToProto(out.Payload); err == nil {
			if raw, err := proto.Marshal(v); err == nil && len(raw) <= MaxHistoryText {
				b = protowire.AppendTag(b, fPayload, protowire.BytesType)
				b = protowire.AppendBytes(b, raw)
			}
		}
	}
	return b
}

// appendQuickReplies appends the labels of out's quick replies that fit in
// MaxHistoryText, each with its value when they have values.
func appendQuickReplies(b []byte, out *botserver.Outgoing) []byte {
	room := MaxHistoryText
	values := len(out.QuickReplyValues) == len(out.QuickReplies)
	for i, q := range out.QuickReplies {
		if values {
			room -= len(out.QuickReplyValues[i])
		}
		if room -= len(q); room < 0 {
			break
		}
		b = protowire.AppendTag(b, fQuickReply, protowire.BytesType)
		b = protowire.AppendString(b, q)
		if values {
			b = protowire.AppendTag(b, fQuickReplyValue, protowire.BytesType)
			b = protowire.AppendString(b, out.QuickReplyValues[i])
		}
	}
	return b
}

func appendBool(b []byte, n protowire.Number, v bool) []byte {
	if !v {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.VarintType)
	return protowire.AppendVarint(b, 1)
}

func appendString(b []byte, n protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// cut shortens s to at most n bytes, on a character boundary, ending in
// "…" when it was longer.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n -= len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// decodeEntry reads an entry back; unknown fields are skipped.
func decodeEntry(raw []byte) (botserver.Outgoing, error) {
	var out botserver.Outgoing
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return botserver.Outgoing{}, fmt.Errorf("%w: %v", errBadEntry, protowire.ParseError(n))
		}
		raw = raw[n:]
		if n = decodeField(&out, num, typ, raw); n < 0 {
			return botserver.Outgoing{}, fmt.Errorf("%w: field %d: %v", errBadEntry, num, protowire.ParseError(n))
		}
		raw = raw[n:]
	}
	return out, nil
}

// decodeField reads field num of an entry into out and returns its length
// (negative: a protowire error code).
func decodeField(out *botserver.Outgoing, num protowire.Number, typ protowire.Type, raw []byte) int {
	if typ == protowire.VarintType {
		v, n := protowire.ConsumeVarint(raw)
		switch num {
		case fTS:
			out.TS = time.UnixMilli(protowire.DecodeZigZag(v))
		case fKind:
			out.Kind = botserver.OutKind(v)
		case fFromUser:
			out.FromUser = v != 0
		case fAsk:
			out.Ask = v != 0
		}
		return n
	}
	if typ != protowire.BytesType {
		return protowire.ConsumeFieldValue(num, typ, raw)
	}
	v, n := protowire.ConsumeBytes(raw)
	switch num {
	case fText:
		out.Text = string(v)
	case fQuickReply:
		out.QuickReplies = append(out.QuickReplies, string(v))
	case fQuickReplyValue:
		out.QuickReplyValues = append(out.QuickReplyValues, string(v))
	case fURL:
		out.URL = string(v)
	case fName:
		out.Name = string(v)
	case fPayload:
		var p pb.Value
		if err := proto.Unmarshal(v, &p); err != nil {
			return -1
		}
		out.Payload = dsl.FromProto(&p)
	}
	return n
}
