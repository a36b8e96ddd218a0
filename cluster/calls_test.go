package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	pb "botserver/proto"

	"google.golang.org/protobuf/proto"
)

// nextEnvelope returns the next envelope of kind b's ingress receives.
func nextEnvelope(t *testing.T, envelopes <-chan *pb.Envelope, kind string, msg proto.Message) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case env := <-envelopes:
			if env.GetKind() == kind {
				if err := proto.Unmarshal(env.GetPayload(), msg); err != nil {
					t.Fatal(err)
				}
				return
			}
		case <-deadline:
			t.Fatalf("no %s within 20s", kind)
		}
	}
}

// TestAdminCallAnswered: a call reaches the member asked, and its answer
// (an envelope like any other) comes back to the caller as the call's
// result (an answer from another member is not taken); another member's call runs the handler set with OnCall, within
// the call's timeout, and is answered.
func TestAdminCallAnswered(t *testing.T) {
	n, _, b, envelopes := twoMembers(t)
	type answer struct {
		result, rpcErr []byte
		err            error
	}
	got := make(chan answer, 1)
	go func() {
		r, e, err := n.Call(context.Background(), b.Address, "play", []byte(`{"bot":"x"}`), 20*time.Second)
		got <- answer{r, e, err}
	}()
	var call pb.AdminCall
	nextEnvelope(t, envelopes, "admin_call", &call)
	if call.GetMethod() != "play" || string(call.GetParams()) != `{"bot":"x"}` || call.GetTimeoutMs() != 20000 {
		t.Fatalf("the call sent: %v", &call)
	}
	forged, _ := proto.Marshal(&pb.AdminReply{Id: call.GetId(), Result: []byte(`{"result":666}`)})
	if err := n.open(&pb.Envelope{Kind: "admin_reply", Version: envelopeVersion, Payload: forged, From: "127.0.0.1:9"}); err != nil {
		t.Fatal(err)
	}
	payload, _ := proto.Marshal(&pb.AdminReply{Id: call.GetId(), Result: []byte(`{"result":3}`)})
	if err := n.open(&pb.Envelope{Kind: "admin_reply", Version: envelopeVersion, Payload: payload, From: b.Address}); err != nil {
		t.Fatal(err)
	}
	if a := <-got; a.err != nil || string(a.result) != `{"result":3}` || a.rpcErr != nil {
		t.Fatalf("Call returned %q, %q, %v", a.result, a.rpcErr, a.err)
	}

	var deadline time.Time
	n.OnCall(func(ctx context.Context, method string, params []byte) ([]byte, []byte) {
		deadline, _ = ctx.Deadline()
		return nil, []byte(`{"code":-32001,"message":"timeout"}`)
	})
	start := time.Now()
	n.answerCall(b.Address, &pb.AdminCall{Id: 9, Method: "play", Params: []byte(`{}`), TimeoutMs: 1500})
	end := time.Now()
	var reply pb.AdminReply
	nextEnvelope(t, envelopes, "admin_reply", &reply)
	if reply.GetId() != 9 || string(reply.GetError()) != `{"code":-32001,"message":"timeout"}` || reply.GetResult() != nil {
		t.Fatalf("the answer sent: %v", &reply)
	}
	if want := 1500 * time.Millisecond; deadline.Sub(start) < want || deadline.Sub(end) > want {
		t.Errorf("the handler's deadline is %v after the call began and %v after it ended, want the call's 1.5 s from a moment between", deadline.Sub(start), deadline.Sub(end))
	}
}

// TestAdminCallUnanswered: a call the member asked does not answer (it
// left, or does not know the kind) ends with ErrNoAnswer after its
// timeout; a late answer is dropped.
func TestAdminCallUnanswered(t *testing.T) {
	n, _, b, envelopes := twoMembers(t)
	_, _, err := n.Call(context.Background(), b.Address, "play", []byte(`{}`), 50*time.Millisecond)
	if !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("Call returned %v, want ErrNoAnswer", err)
	}
	var call pb.AdminCall
	nextEnvelope(t, envelopes, "admin_call", &call)
	n.calls.answer(call.GetId(), callReply{b.Address, &pb.AdminReply{Id: call.GetId()}}) // late: nobody waits
	n.calls.mu.Lock()
	left := len(n.calls.m)
	n.calls.mu.Unlock()
	if left != 0 {
		t.Errorf("%d calls still recorded", left)
	}
}
