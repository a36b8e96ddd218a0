package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	pb "botserver/proto"
)

// CallHandler runs an admin API method another member asked this one to
// run (one only this member can: play, where it hosts the bot's master),
// and returns the method's JSON result or its JSON-RPC error object.
type CallHandler func(ctx context.Context, method string, params []byte) (result, rpcErr []byte)

// OnCall sets what runs other members' admin calls here (the admin
// server). Without it, calls go unanswered.
func (n *Node) OnCall(fn CallHandler) { n.onCall.Store(&fn) }

// ErrNoAnswer: the member asked did not answer in time (it left, died, or
// runs a release that does not know the call).
var ErrNoAnswer = errors.New("no answer")

// maxCallTime bounds how long a call from another member may run here,
// whatever it asks for; maxCalls how many run at once (more are refused).
const (
	maxCallTime = 2 * time.Minute
	maxCalls    = 64
)

// callReply is an answer to a call, with the member that sent it.
type callReply struct {
	from string
	r    *pb.AdminReply
}

// Call asks member to run an admin method with its JSON params, and waits
// for the answer at most timeout (or until ctx ends).
func (n *Node) Call(ctx context.Context, member, method string, params []byte, timeout time.Duration) (result, rpcErr []byte, err error) {
	id := n.ids.Add(1)
	ch := n.calls.ask(id, 4)
	defer n.calls.forget(id)
	n.send(member, "admin_call", &pb.AdminCall{Id: id, Method: method, Params: params, TimeoutMs: timeout.Milliseconds()})
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case r := <-ch:
			if r.from != member { // only the member asked answers
				continue
			}
			return r.r.GetResult(), r.r.GetError(), nil
		case <-t.C:
			return nil, nil, fmt.Errorf("%w from %s within %v", ErrNoAnswer, member, timeout)
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// answerCall runs another member's call and answers it; the caller stops
// waiting after its timeout, and so does the method here.
func (n *Node) answerCall(from string, c *pb.AdminCall) {
	fn := n.onCall.Load()
	if fn == nil {
		n.log.Warn("an admin call from another member, and no admin API here", "from", from, "method", c.GetMethod())
		return
	}
	if n.running.Add(1) > maxCalls {
		n.running.Add(-1)
		n.log.Warn("too many admin calls from other members at once; refused one", "from", from, "method", c.GetMethod())
		n.send(from, "admin_reply", &pb.AdminReply{Id: c.GetId(), Error: []byte(`{"code":-32000,"message":"the member that hosts it runs too many calls for others now; try again"}`)})
		return
	}
	defer n.running.Add(-1)
	d := min(max(time.Duration(c.GetTimeoutMs())*time.Millisecond, time.Millisecond), maxCallTime)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	go func() { // a member that leaves stops what it runs for others
		select {
		case <-n.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	result, rpcErr := (*fn)(ctx, c.GetMethod(), c.GetParams())
	n.send(from, "admin_reply", &pb.AdminReply{Id: c.GetId(), Result: result, Error: rpcErr})
}
