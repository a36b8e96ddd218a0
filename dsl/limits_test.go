package dsl

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
)

func TestTurnTimeLimit(t *testing.T) {
	prog, err := Compile("main.bot", "dialog main do\n  goto main\nend\n", RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, prog, false)
	s.env.Limits = Limits{MaxTurnTime: time.Nanosecond}
	res := s.m.Turn(s.st, Message("hi"), s.env)
	if res.Err == nil || !strings.Contains(res.Err.Msg, "turn took longer than 1ns") {
		t.Fatalf("got %v, want the turn-time error", res.Err)
	}
	if res.Steps < 1024 || res.Steps > 2048 {
		t.Errorf("stopped after %d steps, want the first check at 1024", res.Steps)
	}
}

func TestMessageCut(t *testing.T) {
	prog, err := Compile("main.bot", "dialog main do\n  say length(message)\n  say message\nend\n", RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, prog, false)
	long := strings.Repeat("é", 3000) // 6,000 bytes
	res := s.m.Turn(s.st, Message(long), s.env)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	got := res.Effects[len(res.Effects)-1].Text
	if len(got) > 4096 || len(got) < 4094 || !utf8.ValidString(got) {
		t.Errorf("message cut to %d bytes (valid UTF-8: %v), want at most 4096 on a rune boundary", len(got), utf8.ValidString(got))
	}
}

// TestRollbackRestoresEverything checks that a failing turn leaves the
// state exactly as it was: variables, user record, locals and the stack.
func TestRollbackRestoresEverything(t *testing.T) {
	prog, err := Compile("main.bot", `dialog main do
  a = 1
  _l = "local"
  ask "first?"
  user.points = 10
  a = 2
  _l = "changed"
  nested.x.y = 3
  invoke other
end
dialog other do
  x = nil + 1
end
`, RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, prog, false)
	s.m.Turn(s.st, Message("hi"), s.env)
	before, err := Marshal(s.st)
	if err != nil {
		t.Fatal(err)
	}
	res := s.m.Turn(s.st, Message("answer"), s.env)
	if res.Err == nil || res.UserChanged || len(res.Effects) != 0 {
		t.Fatalf("got err=%v userChanged=%v effects=%v, want a rolled-back failure", res.Err, res.UserChanged, res.Effects)
	}
	if _, had := s.env.User["points"]; had {
		t.Errorf("user.points survived the rollback")
	}
	s.st.Turn-- // a failed turn still counts as a turn
	old, err := UnmarshalState(before, prog)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Encode(old)
	got, _ := Encode(s.st)
	if !proto.Equal(got, want) {
		t.Errorf("state after rollback:\n%v\nwant:\n%v", got, want)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   any
		want time.Duration
		err  bool
	}{
		{"500ms", 500 * time.Millisecond, false},
		{"15m", 15 * time.Minute, false},
		{"1d", 24 * time.Hour, false},
		{"2d12h", 60 * time.Hour, false},
		{3, 3 * time.Second, false},
		{1.5, 1500 * time.Millisecond, false},
		{"xd", 0, true},
		{"soon", 0, true},
		{true, 0, true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseDuration(%v) = %v, %v; want %v (error: %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// TestChanged: a turn that only answers a query changes nothing persisted;
// one that assigns does.
func TestChanged(t *testing.T) {
	prog, err := Compile("master.bot", "task event: \"ping\" do\n  reply \"pong\"\nend\ntask event: \"set\" do\n  x = 1\nend\n", RoleMaster)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, prog, false)
	if res := s.m.Turn(s.st, Input{Kind: InEvent, Event: &Event{Name: "set"}}, s.env); !res.Changed {
		t.Errorf("set: changed=false, want true")
	}
	ping := Input{Kind: InEvent, Event: &Event{Name: "ping", Sender: "web:a", QueryID: "q1"}}
	before, _ := Marshal(s.st)
	res := s.m.Turn(s.st, ping, s.env)
	if res.Changed || len(res.Effects) != 1 {
		t.Errorf("ping: changed=%v effects=%v, want unchanged with one reply", res.Changed, res.Effects)
	}
	s.st.Turn--
	if after, _ := Marshal(s.st); string(after) != string(before) {
		t.Errorf("an unchanged turn changed the encoded state")
	}
}

// TestEarlyTimer: a timer fired before its time is armed again, not run.
func TestEarlyTimer(t *testing.T) {
	prog, err := Compile("main.bot", "dialog main do\n  pause 60\n  say \"done\"\nend\n", RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, prog, false)
	s.m.Turn(s.st, Message("hi"), s.env)
	var pause Timer
	for _, tm := range s.st.Timers {
		if tm.Kind == TimerResume {
			pause = tm
		}
	}
	res := s.m.Turn(s.st, Input{Kind: InTimer, Timer: pause.ID}, s.env)
	if len(res.Effects) != 1 || res.Effects[0].Kind != EffArmTimer || !res.Effects[0].At.Equal(pause.At) {
		t.Fatalf("early fire: effects %v, want it armed again at %v", res.Effects, pause.At)
	}
	s.env.Now = pause.At
	res = s.m.Turn(s.st, Input{Kind: InTimer, Timer: pause.ID}, s.env)
	if len(res.Effects) == 0 || res.Effects[0].Text != "done" {
		t.Errorf("on time: effects %v, want done", res.Effects)
	}
}

// TestScheduledLimit: an instance may have MaxScheduled events waiting;
// one more is a run-time error, and the turn's schedules are undone.
func TestScheduledLimit(t *testing.T) {
	prog, err := Compile("main.bot", "dialog main do\n  repeat i in 1..4 do\n    emit \"e\", i, in: 60\n  end\nend\n", RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, prog, false)
	s.env.Limits = Limits{MaxScheduled: 3}
	res := s.m.Turn(s.st, Message("hi"), s.env)
	want := "main.bot:3:5: too many scheduled events: 3 are waiting (cancel some first)"
	if res.Err == nil || res.Err.Error() != want {
		t.Fatalf("got %v, want %s", res.Err, want)
	}
	if len(s.st.Timers) != 0 || s.st.Vars[scheduledVar] != nil {
		t.Errorf("timers %v, scheduled %v: want none after the rollback", s.st.Timers, s.st.Vars[scheduledVar])
	}
}
