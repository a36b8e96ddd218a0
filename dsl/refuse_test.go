package dsl

import (
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestRefuseUndoesAKeptTurn: a host refuses a turn that ran without error
// (its state was too large to store): the state is as before the turn,
// user.* too, the turn's messages are gone and __error__ says why.
func TestRefuseUndoesAKeptTurn(t *testing.T) {
	prog, err := Compile("main.bot", `dialog main do
  a = 1
  say "ready"
end
dialog trigger: "grow" do
  a = a + 1
  big = "lots"
  user.points = 5
  say "grown"
end
dialog __error__ do
  say "sorry: #{event.payload}"
end
`, RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, prog, false)
	s.m.Turn(s.st, Message("hi"), s.env)
	before, _ := Encode(s.st)
	res := s.m.Turn(s.st, Message("grow"), s.env)
	if res.Err != nil || s.st.Vars["big"] != "lots" {
		t.Fatalf("grow: err=%v vars=%v, want it kept", res.Err, s.st.Vars)
	}
	res = s.m.Refuse(s.st, &RuntimeError{Pos: Pos{File: "main.bot"}, Msg: "state too large"})
	if res.Err == nil || res.Err.Error() != "main.bot: state too large" || !res.ErrorHandled || res.HandlerErr != nil {
		t.Fatalf("refuse: err=%v handled=%v handlerErr=%v", res.Err, res.ErrorHandled, res.HandlerErr)
	}
	if len(res.Effects) != 1 || res.Effects[0].Text != "sorry: main.bot: state too large" {
		t.Errorf("effects %+v, want only __error__'s message", res.Effects)
	}
	if _, had := s.env.User["points"]; had || res.UserChanged {
		t.Errorf("user.points survived the refusal (changed=%v)", res.UserChanged)
	}
	if s.st.Turn != 2 {
		t.Errorf("turn counter %d, want 2 (a refused turn counts once)", s.st.Turn)
	}
	s.st.Turn--
	after, _ := Encode(s.st)
	if !proto.Equal(after, before) {
		t.Errorf("state after the refusal:\n%v\nwant:\n%v", after, before)
	}
}

// TestErrorHandlerFailureReported: an error inside __error__ is reported
// beside the turn's own, and a turn without __error__ says it was not
// handled.
func TestErrorHandlerFailureReported(t *testing.T) {
	prog, err := Compile("main.bot", "dialog main do\n  x = nil + 1\nend\ndialog __error__ do\n  y = nil + 2\nend\n", RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	res := newSim(t, prog, false).m.Turn(NewState(), Message("hi"), newSim(t, prog, false).env)
	if res.Err == nil || res.ErrorHandled || res.HandlerErr == nil || res.HandlerErr.Pos.Line != 5 {
		t.Fatalf("err=%v handled=%v handlerErr=%v, want __error__'s failure at line 5", res.Err, res.ErrorHandled, res.HandlerErr)
	}
	prog, err = Compile("main.bot", "dialog main do\n  x = nil + 1\nend\n", RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, prog, false)
	if res := s.m.Turn(s.st, Message("hi"), s.env); res.Err == nil || res.ErrorHandled || res.HandlerErr != nil {
		t.Fatalf("err=%v handled=%v handlerErr=%v, want an unhandled error", res.Err, res.ErrorHandled, res.HandlerErr)
	}
}

// TestUserNameSet: a turn that assigns user.name (even its own value)
// says so; one that writes another user field, or whose write is rolled
// back, does not.
func TestUserNameSet(t *testing.T) {
	prog, err := Compile("main.bot", `
dialog trigger: "same" do
  user.name = user.name
end
dialog trigger: "other" do
  user.points = 1
end
dialog trigger: "fail" do
  user.name = "x"
  y = nothing.at.all * 2
end
`, RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, prog, false)
	s.env.User["name"] = "ann"
	for _, c := range []struct {
		msg         string
		changed, ok bool
	}{{"same", true, true}, {"other", true, false}, {"fail", false, false}} {
		res := s.m.Turn(s.st, Message(c.msg), s.env)
		if res.UserChanged != c.changed || res.UserNameSet != c.ok {
			t.Errorf("%s: UserChanged=%v UserNameSet=%v, want %v and %v", c.msg, res.UserChanged, res.UserNameSet, c.changed, c.ok)
		}
	}
}
