package dsl

import (
	"fmt"

	pb "botserver/proto"
)

// Encode converts st to the generated protobuf message. The runtime writes
// states with Marshal/AppendState; Encode checks that codec
// against the generated code (tests only).
func Encode(st *State) (*pb.InstanceState, error) {
	vars, err := MapToProto(st.Vars)
	if err != nil {
		return nil, err
	}
	out := &pb.InstanceState{
		Turn: st.Turn, Script: st.Script, Vars: vars, NextId: st.NextID, Started: st.Started,
		Members: st.Members, Group: st.Group, LastActive: st.Active, RecentInputs: st.Recent,
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
