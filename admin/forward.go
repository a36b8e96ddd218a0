package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// forwardGrace is how much longer than a forwarded method's own timeout
// its caller waits for the answer (the trip both ways).
const forwardGrace = 2 * time.Second

// forwarded are the methods another member of a cluster may ask this one
// to run: those only the member that hosts something can (play: the
// bot's master).
func (s *Server) forwarded(ctx context.Context, method string, params json.RawMessage) (any, *Error) {
	switch method {
	case "play":
		return s.play(ctx, params, false) // not forwarded again: the views may differ for a moment
	}
	return nil, &Error{Code: CodeNoMethod, Message: fmt.Sprintf("method not found: %q (asked by another member)", method)}
}

// answerCall runs another member's call (cluster.CallHandler).
func (s *Server) answerCall(ctx context.Context, method string, params []byte) (result, rpcErr []byte) {
	v, e := s.forwarded(ctx, method, params)
	if e == nil {
		var err error
		if result, err = json.Marshal(v); err == nil {
			return result, nil
		}
		e = &Error{Code: CodeServer, Message: "cannot encode the result: " + err.Error()}
	}
	rpcErr, _ = json.Marshal(e)
	return nil, rpcErr
}

// forward runs method on member, the member of the cluster that hosts
// what it is about, and returns that member's answer as its own.
func (s *Server) forward(ctx context.Context, member, method string, params json.RawMessage, timeout time.Duration) (any, *Error) {
	result, rpcErr, err := s.opts.Cluster.Call(ctx, member, method, params, timeout)
	switch {
	case errors.Is(err, context.Canceled):
		return nil, &Error{Code: CodeServer, Message: "cancelled"} // as here; the member asked runs it to its timeout
	case err != nil:
		return nil, &Error{Code: CodeServer, Message: fmt.Sprintf("%s runs on %s, the member that hosts it, which did not answer: %v", method, member, err)}
	case rpcErr != nil:
		var e Error
		if err := json.Unmarshal(rpcErr, &e); err != nil || e.Code == 0 {
			return nil, &Error{Code: CodeServer, Message: fmt.Sprintf("%s on %s: an answer that is not an error object: %.200s", method, member, rpcErr)}
		}
		return nil, &e
	}
	return json.RawMessage(result), nil
}
