package dsl

import (
	"errors"
	"fmt"
	"math"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// field is one decoded protobuf field: scalars in num, messages and
// strings in raw.
type field struct {
	num protowire.Number
	typ protowire.Type
	n   uint64
	raw []byte
}

func (f field) str() string { return string(f.raw) }

// errWireType reports a field with an unexpected wire type.
var errWireType = errors.New("unexpected wire type")

// want checks the field's wire type.
func (f field) want(t protowire.Type) error {
	if f.typ != t {
		return fmt.Errorf("field %d: %w", f.num, errWireType)
	}
	return nil
}

// eachField calls fn for every field of the message in b.
func eachField(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.n, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			f.n, n = protowire.ConsumeFixed64(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.n = uint64(v)
		case protowire.BytesType:
			f.raw, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// UnmarshalState decodes bytes written by AppendState (or by proto.Marshal
// of a pb.InstanceState) and binds its frames to prog, as Decode does.
func UnmarshalState(b []byte, prog *Program) (*State, error) {
	st := &State{Vars: map[string]any{}}
	err := eachField(b, func(f field) error {
		switch f.num {
		case 1:
			st.Turn = f.n
		case 2:
			st.Script = f.str()
		case 3:
			return decodeEntry(f, st.Vars, 0, prog)
		case 4:
			co, err := decodeCoWire(f.raw, prog)
			if co != nil {
				st.Cos = append(st.Cos, co)
			}
			return err
		case 5:
			t, err := decodeTimerWire(f.raw)
			st.Timers = append(st.Timers, t)
			return err
		case 6:
			st.NextID = f.n
		case 7:
			st.Started = f.n != 0
		case 8:
			return decodeInputWire(f.raw, st)
		case 9:
			st.Members = append(st.Members, f.str())
		case 10:
			st.Group = f.str()
		case 12:
			st.Active = int64(f.n)
		case 13:
			return decodeFixed64s(f, &st.Recent)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("corrupt state: %w", err)
	}
	return st, nil
}

// decodeFixed64s appends a repeated fixed64 field to vs: packed (as
// written) or one value per field (as a parser must also accept).
func decodeFixed64s(f field, vs *[]uint64) error {
	if f.typ == protowire.Fixed64Type {
		*vs = append(*vs, f.n)
		return nil
	}
	if err := f.want(protowire.BytesType); err != nil {
		return err
	}
	if len(f.raw)%8 != 0 {
		return fmt.Errorf("field %d: packed fixed64 of %d bytes", f.num, len(f.raw))
	}
	for b := f.raw; len(b) > 0; b = b[8:] {
		v, _ := protowire.ConsumeFixed64(b)
		*vs = append(*vs, v)
	}
	return nil
}

// decodeEntry adds one map<string, Value> entry to m; names the program
// knows are not allocated again.
func decodeEntry(f field, m map[string]any, depth int, prog *Program) error {
	if err := f.want(protowire.BytesType); err != nil {
		return err
	}
	var key string
	var val any
	err := eachField(f.raw, func(e field) error {
		var err error
		switch e.num {
		case 1:
			key = prog.intern(e.raw)
		case 2:
			val, err = decodeValueWire(e.raw, depth+1)
		}
		return err
	})
	m[key] = val
	return err
}

// decodeValueWire decodes a Value message. It reads the (last) oneof field
// directly: values are most of a state, so this avoids the generic loop.
func decodeValueWire(b []byte, depth int) (any, error) {
	if depth > MaxValueDepth+2 {
		return nil, errors.New("value nested too deeply")
	}
	var v any
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		var err error
		if v, n, err = decodeOneof(num, typ, b, depth); err != nil {
			return nil, err
		}
		b = b[n:]
	}
	return v, nil
}

// decodeOneof decodes one field of a Value; n is the bytes it used.
func decodeOneof(num protowire.Number, typ protowire.Type, b []byte, depth int) (v any, n int, err error) {
	switch {
	case typ == protowire.VarintType:
		var x uint64
		if x, n = protowire.ConsumeVarint(b); n < 0 {
			return nil, 0, protowire.ParseError(n)
		}
		switch num {
		case 2:
			return x != 0, n, nil
		case 3:
			return int(protowire.DecodeZigZag(x)), n, nil
		}
		return nil, n, nil
	case typ == protowire.Fixed64Type && num == 4:
		var x uint64
		if x, n = protowire.ConsumeFixed64(b); n < 0 {
			return nil, 0, protowire.ParseError(n)
		}
		return math.Float64frombits(x), n, nil
	case typ == protowire.BytesType:
		var raw []byte
		if raw, n = protowire.ConsumeBytes(b); n < 0 {
			return nil, 0, protowire.ParseError(n)
		}
		v, err = decodeBytesOneof(num, raw, depth)
		return v, n, err
	}
	if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
		return nil, 0, protowire.ParseError(n)
	}
	return nil, n, nil
}

func decodeBytesOneof(num protowire.Number, raw []byte, depth int) (any, error) {
	switch num {
	case 5:
		return string(raw), nil
	case 6:
		return Atom(raw), nil
	case 7:
		return decodeListWire(raw, depth)
	case 8:
		m := map[string]any{}
		return m, eachField(raw, func(e field) error { return decodeEntry(e, m, depth+1, nil) })
	}
	return nil, nil
}

func decodeListWire(b []byte, depth int) ([]any, error) {
	l := []any{}
	err := eachField(b, func(f field) error {
		item, err := decodeValueWire(f.raw, depth+1)
		l = append(l, item)
		return err
	})
	return l, err
}

func decodeCoWire(b []byte, prog *Program) (*Coroutine, error) {
	co := &Coroutine{}
	dropped := false
	err := eachField(b, func(f field) error {
		switch f.num {
		case 1:
			co.ID = f.n
		case 2:
			co.Main = f.n != 0
		case 3:
			fr, ok, err := decodeFrameWire(f.raw, prog)
			if ok {
				co.Frames = append(co.Frames, fr)
			} else {
				dropped = true
			}
			return err
		case 4:
			return eachField(f.raw, func(w field) error {
				switch w.num {
				case 1:
					co.Wait.Kind = WaitKind(w.n)
				case 2:
					co.Wait.QueryID = w.str()
				case 3:
					co.Wait.Timer = w.n
				}
				return nil
			})
		}
		return nil
	})
	if dropped {
		co.Wait = Wait{}
	}
	if len(co.Frames) == 0 {
		return nil, err
	}
	return co, err
}

// decodeFrameWire decodes a frame; ok is false when prog lacks its proc.
func decodeFrameWire(b []byte, prog *Program) (fr Frame, ok bool, err error) {
	err = eachField(b, func(f field) error {
		switch f.num {
		case 1:
			fr.Proc = prog.byKey[string(f.raw)] // no allocation for a map lookup
		case 2:
			fr.PC = int(f.n)
		case 3:
			if fr.Locals == nil {
				fr.Locals = map[string]any{}
			}
			return decodeEntry(f, fr.Locals, 0, prog)
		case 4:
			return decodeIterWire(f.raw, &fr)
		case 5:
			fr.Interrupt = f.n != 0
		case 6:
			fr.Asking = f.n != 0
		case 7:
			ev, err := decodeEventWire(f.raw)
			fr.Event = ev
			return err
		case 8:
			fr.ReplyTo = &QueryRef{}
			return eachField(f.raw, func(q field) error {
				if q.num == 1 {
					fr.ReplyTo.Sender = q.str()
				} else if q.num == 2 {
					fr.ReplyTo.QueryID = q.str()
				}
				return nil
			})
		}
		return nil
	})
	return fr, fr.Proc != nil && fr.PC <= len(fr.Proc.code), err
}

func decodeIterWire(b []byte, fr *Frame) error {
	it := Iter{List: []any{}}
	err := eachField(b, func(f field) error {
		switch f.num {
		case 1:
			l, err := decodeListWire(f.raw, 0)
			it.List = l
			return err
		case 2:
			it.Index = int(f.n)
		}
		return nil
	})
	fr.Iters = append(fr.Iters, it)
	return err
}

func decodeEventWire(b []byte) (*Event, error) {
	ev := &Event{}
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			ev.Name = f.str()
		case 2:
			ev.Payload, err = decodeValueWire(f.raw, 0)
		case 3:
			ev.Sender = f.str()
		case 4:
			ev.QueryID = f.str()
		}
		return err
	})
	return ev, err
}

func decodeTimerWire(b []byte) (Timer, error) {
	var t Timer
	var at int64
	err := eachField(b, func(f field) error {
		switch f.num {
		case 1:
			t.ID = f.n
		case 2:
			t.Kind = TimerKind(f.n)
		case 3:
			at = protowire.DecodeZigZag(f.n)
		case 4:
			t.Co = f.n
		}
		return nil
	})
	t.At = time.Unix(0, at)
	return t, err
}

func decodeInputWire(b []byte, st *State) error {
	return eachField(b, func(f field) error {
		switch f.num {
		case 1:
			st.Inbox = append(st.Inbox, Input{Kind: InMessage, Text: f.str()})
		case 2:
			ev, err := decodeEventWire(f.raw)
			st.Inbox = append(st.Inbox, Input{Kind: InEvent, Event: ev})
			return err
		}
		return nil
	})
}
