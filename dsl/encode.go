package dsl

import (
	"fmt"
	"time"

	pb "botserver/proto"
)

// Encode converts st to its protobuf form.
func Encode(st *State) (*pb.InstanceState, error) {
	vars, err := persistedVars(st.Vars)
	if err != nil {
		return nil, err
	}
	out := &pb.InstanceState{
		Turn: st.Turn, Script: st.Script, Vars: vars, NextId: st.NextID, Started: st.Started,
		Members: st.Members, Group: st.Group,
	}
	for _, co := range st.Cos {
		c, err := encodeCo(co)
		if err != nil {
			return nil, err
		}
		out.Coroutines = append(out.Coroutines, c)
	}
	for _, t := range st.Timers {
		out.Timers = append(out.Timers, &pb.Timer{Id: t.ID, Kind: pb.Timer_Kind(t.Kind), Deadline: t.At.UnixNano(), Coroutine: t.Co})
	}
	for _, in := range st.Inbox {
		p, err := encodeInput(in)
		if err != nil {
			return nil, err
		}
		out.Inbox = append(out.Inbox, p)
	}
	return out, nil
}

// Marshal encodes st to the bytes of a pb.InstanceState.
func Marshal(st *State) ([]byte, error) { return AppendState(make([]byte, 0, 256), st) }

// Unmarshal decodes bytes written by Marshal, binding frames to prog.
func Unmarshal(b []byte, prog *Program) (*State, error) { return UnmarshalState(b, prog) }

// persistedVars encodes the script's variables, leaving out the runtime's.
func persistedVars(vars map[string]any) (map[string]*pb.Value, error) {
	out := make(map[string]*pb.Value, len(vars))
	for k, v := range vars {
		if len(k) > 1 && k[0] == '_' && k[1] == '_' {
			continue
		}
		pv, err := ToProto(v)
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", k, err)
		}
		out[k] = pv
	}
	return out, nil
}

func encodeCo(co *Coroutine) (*pb.Coroutine, error) {
	c := &pb.Coroutine{Id: co.ID, Main: co.Main, Wait: &pb.Wait{Kind: pb.Wait_Kind(co.Wait.Kind), QueryId: co.Wait.QueryID, Timer: co.Wait.Timer}}
	for i := range co.Frames {
		f, err := encodeFrame(&co.Frames[i])
		if err != nil {
			return nil, err
		}
		c.Frames = append(c.Frames, f)
	}
	return c, nil
}

func encodeFrame(f *Frame) (*pb.Frame, error) {
	locals, err := MapToProto(f.Locals)
	if err != nil {
		return nil, err
	}
	out := &pb.Frame{Proc: f.Proc.Key, Pc: uint32(f.PC), Locals: locals, Interrupt: f.Interrupt, Asking: f.Asking}
	for _, it := range f.Iters {
		l, err := ToProto(it.List)
		if err != nil {
			return nil, err
		}
		out.Iters = append(out.Iters, &pb.Iter{List: l.GetList(), Index: uint32(it.Index)})
	}
	if f.Event != nil {
		if out.Event, err = encodeEvent(f.Event); err != nil {
			return nil, err
		}
	}
	if f.ReplyTo != nil {
		out.ReplyTo = &pb.QueryRef{Sender: f.ReplyTo.Sender, QueryId: f.ReplyTo.QueryID}
	}
	return out, nil
}

func encodeEvent(e *Event) (*pb.Event, error) {
	p, err := ToProto(e.Payload)
	if err != nil {
		return nil, err
	}
	return &pb.Event{Name: e.Name, Payload: p, Sender: e.Sender, QueryId: e.QueryID}, nil
}

// EncodeEvent converts an event to protobuf, to send it between actors.
func EncodeEvent(e *Event) (*pb.Event, error) { return encodeEvent(e) }

// DecodeEvent converts a protobuf event.
func DecodeEvent(p *pb.Event) *Event {
	return &Event{Name: p.GetName(), Payload: FromProto(p.GetPayload()), Sender: p.GetSender(), QueryID: p.GetQueryId()}
}

func encodeInput(in Input) (*pb.Input, error) {
	switch in.Kind {
	case InMessage:
		return &pb.Input{Kind: &pb.Input_Message{Message: in.Text}}, nil
	case InEvent:
		e, err := encodeEvent(in.Event)
		return &pb.Input{Kind: &pb.Input_Event{Event: e}}, err
	}
	return nil, fmt.Errorf("input kind %d cannot be queued", in.Kind)
}

// Decode converts a stored state and binds its frames to prog. Frames of
// procedures prog no longer has (the script changed) are dropped, so a
// conversation goes on from the nearest dialog that still exists.
func Decode(p *pb.InstanceState, prog *Program) (*State, error) {
	st := &State{
		Turn: p.GetTurn(), Script: p.GetScript(), Vars: MapFromProto(p.GetVars()), NextID: p.GetNextId(),
		Started: p.GetStarted(), Members: p.GetMembers(), Group: p.GetGroup(),
	}
	for _, c := range p.GetCoroutines() {
		if co := decodeCo(c, prog); co != nil {
			st.Cos = append(st.Cos, co)
		}
	}
	for _, t := range p.GetTimers() {
		st.Timers = append(st.Timers, Timer{ID: t.GetId(), Kind: TimerKind(t.GetKind()), At: time.Unix(0, t.GetDeadline()), Co: t.GetCoroutine()})
	}
	for _, in := range p.GetInbox() {
		switch k := in.GetKind().(type) {
		case *pb.Input_Message:
			st.Inbox = append(st.Inbox, Input{Kind: InMessage, Text: k.Message})
		case *pb.Input_Event:
			st.Inbox = append(st.Inbox, Input{Kind: InEvent, Event: DecodeEvent(k.Event)})
		}
	}
	return st, nil
}

func decodeCo(c *pb.Coroutine, prog *Program) *Coroutine {
	w := c.GetWait()
	co := &Coroutine{ID: c.GetId(), Main: c.GetMain(), Wait: Wait{Kind: WaitKind(w.GetKind()), QueryID: w.GetQueryId(), Timer: w.GetTimer()}}
	for _, f := range c.GetFrames() {
		pr := prog.byKey[f.GetProc()]
		if pr == nil || int(f.GetPc()) > len(pr.code) {
			co.Wait = Wait{}
			continue
		}
		fr := Frame{Proc: pr, PC: int(f.GetPc()), Locals: MapFromProto(f.GetLocals()), Interrupt: f.GetInterrupt(), Asking: f.GetAsking()}
		for _, it := range f.GetIters() {
			l, _ := FromProto(&pb.Value{Kind: &pb.Value_List{List: it.GetList()}}).([]any)
			fr.Iters = append(fr.Iters, Iter{List: l, Index: int(it.GetIndex())})
		}
		if e := f.GetEvent(); e != nil {
			fr.Event = DecodeEvent(e)
		}
		if r := f.GetReplyTo(); r != nil {
			fr.ReplyTo = &QueryRef{Sender: r.GetSender(), QueryID: r.GetQueryId()}
		}
		co.Frames = append(co.Frames, fr)
	}
	if len(co.Frames) == 0 {
		return nil
	}
	return co
}
