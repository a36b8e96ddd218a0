package cluster

import (
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestJoiningMemberReceivesAtOnce: a member's Actors are spawned before it
// is announced, so a message another member sends it the moment it sees
// it arrives (protoactor drops a message for an actor that does not
// exist, and the ingress was once spawned after the join: inputs sent to
// a member that had just joined waited for their resend).
func TestJoiningMemberReceivesAtOnce(t *testing.T) {
	agent := test.NewInMemAgent()
	a := joinTest(t, MembershipConfig{Provider: "test", TestAgent: agent})
	var once sync.Once
	a.OnChange(func(ms []Member) {
		for _, m := range ms {
			if m.Address != a.Self().Address {
				once.Do(func() { a.System().Root.Send(actor.NewPID(m.Address, "early"), wrapperspb.String("hello")) })
			}
		}
	})
	got := make(chan string, 1)
	b := joinTest(t, MembershipConfig{Provider: "test", TestAgent: agent, Actors: map[string]*actor.Props{
		"early": actor.PropsFromFunc(func(ctx actor.Context) {
			if s, ok := ctx.Message().(*wrapperspb.StringValue); ok {
				got <- s.GetValue()
			}
		}),
	}})
	defer leaveAll(t, a, b)
	select {
	case v := <-got:
		if v != "hello" {
			t.Errorf("got %q, want hello", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the message sent to the member as soon as it was seen never arrived")
	}
}
