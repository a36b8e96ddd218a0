package dsl

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The state codec writes and reads the wire format of pb.InstanceState
// (proto/botserver.proto) directly, without building the generated
// messages: a state is written after every turn, so this is a hot path.
// Tests check it against the generated code in both directions.

// beginMsg starts a length-delimited field; endMsg patches its length.
func beginMsg(b []byte, num protowire.Number) ([]byte, int) {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return append(b, 0), len(b)
}

func endMsg(b []byte, start int) []byte {
	n := len(b) - start - 1
	if n < 0x80 {
		b[start] = byte(n)
		return b
	}
	sz := protowire.SizeVarint(uint64(n))
	b = append(b, make([]byte, sz-1)...)
	copy(b[start+sz:], b[start+1:start+1+n])
	protowire.AppendVarint(b[:start], uint64(n))
	return b
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendUint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendBool(b []byte, num protowire.Number, v bool) []byte {
	if !v {
		return b
	}
	return appendUint(b, num, 1)
}

// appendValue writes a Value message body (one oneof field).
func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > MaxValueDepth {
		return b, errors.New("value nested too deeply")
	}
	switch x := v.(type) {
	case nil:
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		return append(b, 1), nil
	case bool:
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		return protowire.AppendVarint(b, protowire.EncodeBool(x)), nil
	case int:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		return protowire.AppendVarint(b, protowire.EncodeZigZag(int64(x))), nil
	case float64:
		b = protowire.AppendTag(b, 4, protowire.Fixed64Type)
		return protowire.AppendFixed64(b, math.Float64bits(x)), nil
	case string:
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		return protowire.AppendString(b, validUTF8(x)), nil
	case Atom:
		b = protowire.AppendTag(b, 6, protowire.BytesType)
		return protowire.AppendString(b, validUTF8(string(x))), nil
	case []any:
		b, start := beginMsg(b, 7)
		b, err := appendList(b, x, depth)
		return endMsg(b, start), err
	case map[string]any:
		b, start := beginMsg(b, 8)
		b, err := appendMap(b, 1, x, depth+1)
		return endMsg(b, start), err
	}
	n, err := Normalize(v)
	if err != nil {
		return b, err
	}
	return appendValue(b, n, depth)
}

// appendList writes the items of a List message body.
func appendList(b []byte, l []any, depth int) ([]byte, error) {
	for _, item := range l {
		var start int
		var err error
		b, start = beginMsg(b, 1)
		if b, err = appendValue(b, item, depth+1); err != nil {
			return b, err
		}
		b = endMsg(b, start)
	}
	return b, nil
}

// appendMap writes map<string, Value> entries as field num.
func appendMap(b []byte, num protowire.Number, m map[string]any, depth int) ([]byte, error) {
	for k, v := range m {
		var entry, val int
		var err error
		b, entry = beginMsg(b, num)
		b = appendString(b, 1, validUTF8(k))
		b, val = beginMsg(b, 2)
		if b, err = appendValue(b, v, depth); err != nil {
			return b, err
		}
		b = endMsg(endMsg(b, val), entry)
	}
	return b, nil
}

// AppendState appends the protobuf encoding of st (a pb.InstanceState).
func AppendState(b []byte, st *State) ([]byte, error) {
	b = appendUint(b, 1, st.Turn)
	b = appendString(b, 2, st.Script)
	b, err := appendMap(b, 3, st.Vars, 0)
	if err != nil {
		return b, err
	}
	for _, co := range st.Cos {
		var start int
		b, start = beginMsg(b, 4)
		if b, err = appendCo(b, co); err != nil {
			return b, err
		}
		b = endMsg(b, start)
	}
	for _, t := range st.Timers {
		var start int
		b, start = beginMsg(b, 5)
		b = appendTimer(b, t)
		b = endMsg(b, start)
	}
	b = appendUint(b, 6, st.NextID)
	b = appendBool(b, 7, st.Started)
	for _, in := range st.Inbox {
		if b, err = appendInput(b, in); err != nil {
			return b, err
		}
	}
	for _, m := range st.Members {
		b = protowire.AppendTag(b, 9, protowire.BytesType)
		b = protowire.AppendString(b, m)
	}
	b = appendString(b, 10, st.Group)
	b = appendUint(b, 12, uint64(st.Active))
	return appendFixed64s(b, 13, st.Recent), nil
}

// appendFixed64s writes a packed repeated fixed64 field.
func appendFixed64s(b []byte, num protowire.Number, vs []uint64) []byte {
	if len(vs) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(8*len(vs)))
	for _, v := range vs {
		b = protowire.AppendFixed64(b, v)
	}
	return b
}

func appendCo(b []byte, co *Coroutine) ([]byte, error) {
	b = appendUint(b, 1, co.ID)
	b = appendBool(b, 2, co.Main)
	for i := range co.Frames {
		var start int
		var err error
		b, start = beginMsg(b, 3)
		if b, err = appendFrame(b, &co.Frames[i]); err != nil {
			return b, err
		}
		b = endMsg(b, start)
	}
	b, start := beginMsg(b, 4)
	b = appendUint(b, 1, uint64(co.Wait.Kind))
	b = appendString(b, 2, co.Wait.QueryID)
	b = appendUint(b, 3, co.Wait.Timer)
	return endMsg(b, start), nil
}

func appendFrame(b []byte, f *Frame) ([]byte, error) {
	b = appendString(b, 1, f.Proc.Key)
	b = appendUint(b, 2, uint64(f.PC))
	b, err := appendMap(b, 3, f.Locals, 0)
	if err != nil {
		return b, err
	}
	for _, it := range f.Iters {
		var iter, list int
		b, iter = beginMsg(b, 4)
		b, list = beginMsg(b, 1)
		if b, err = appendList(b, it.List, 0); err != nil {
			return b, err
		}
		b = endMsg(b, list)
		b = appendUint(b, 2, uint64(it.Index))
		b = endMsg(b, iter)
	}
	b = appendBool(b, 5, f.Interrupt)
	b = appendBool(b, 6, f.Asking)
	if f.Event != nil {
		var start int
		b, start = beginMsg(b, 7)
		if b, err = appendEvent(b, f.Event); err != nil {
			return b, err
		}
		b = endMsg(b, start)
	}
	if f.ReplyTo != nil {
		var start int
		b, start = beginMsg(b, 8)
		b = appendString(b, 1, f.ReplyTo.Sender)
		b = appendString(b, 2, f.ReplyTo.QueryID)
		b = endMsg(b, start)
	}
	return b, nil
}

func appendEvent(b []byte, e *Event) ([]byte, error) {
	b = appendString(b, 1, e.Name)
	b, start := beginMsg(b, 2)
	b, err := appendValue(b, e.Payload, 0)
	b = endMsg(b, start)
	b = appendString(b, 3, e.Sender)
	return appendString(b, 4, e.QueryID), err
}

func appendTimer(b []byte, t Timer) []byte {
	b = appendUint(b, 1, t.ID)
	b = appendUint(b, 2, uint64(t.Kind))
	if at := t.At.UnixNano(); at != 0 {
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(at))
	}
	return appendUint(b, 4, t.Co)
}

func appendInput(b []byte, in Input) ([]byte, error) {
	b, start := beginMsg(b, 8)
	switch in.Kind {
	case InMessage:
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, in.Text)
	case InEvent:
		var ev int
		var err error
		b, ev = beginMsg(b, 2)
		if b, err = appendEvent(b, in.Event); err != nil {
			return b, err
		}
		b = endMsg(b, ev)
	default:
		return b, errors.New("only messages and events are queued")
	}
	return endMsg(b, start), nil
}

// MarshalUser encodes a user record (pb.UserRecord).
func MarshalUser(fields map[string]any) ([]byte, error) {
	return appendMap(make([]byte, 0, 64), 1, fields, 0)
}

// UnmarshalUser decodes a user record written by MarshalUser.
func UnmarshalUser(b []byte) (map[string]any, error) {
	fields := map[string]any{}
	err := eachField(b, func(f field) error {
		if f.num == 1 {
			return decodeEntry(f, fields, 0, nil)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("corrupt user record: %w", err)
	}
	return fields, nil
}
