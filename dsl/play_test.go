package dsl

import (
	"strings"
	"testing"
	"time"
)

// playSim is a master with a counter, and a way to run snippets on it.
func playSim(t *testing.T) *sim {
	t.Helper()
	prog, err := Compile("master.bot", "task event: \"bump\" do\n  count = (count ?? 0) + 1\nend\n", RoleMaster)
	if err != nil {
		t.Fatal(err)
	}
	return newSim(t, prog, false)
}

func (s *sim) play(src, id string) Result {
	s.tb.Helper()
	pr, err := CompileSnippet(src)
	if err != nil {
		s.tb.Fatal(err)
	}
	return s.m.Turn(s.st, Input{Kind: InPlay, Play: pr, Sender: "play/" + id, QueryID: id}, s.env)
}

func replyOf(t *testing.T, res Result, id string) (any, bool) {
	t.Helper()
	for _, e := range res.Effects {
		if e.Kind == EffReply && e.QueryID == id {
			if e.To != "play/"+id {
				t.Errorf("reply to %q, want play/%s", e.To, id)
			}
			return e.Payload, true
		}
	}
	return nil, false
}

func TestPlayReadsAndWritesMasterVariables(t *testing.T) {
	s := playSim(t)
	s.m.Turn(s.st, Input{Kind: InEvent, Event: &Event{Name: "bump"}}, s.env)
	res := s.play("count = count * 10\nreply count + 1", "p1")
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got, ok := replyOf(t, res, "p1"); !ok || Format(got) != "11" {
		t.Fatalf("reply = %v (%v), want 11", got, ok)
	}
	if got := s.st.Vars["count"]; Format(got) != "10" {
		t.Errorf("count = %v, want 10 (the snippet writes the master's variables)", got)
	}
	if len(s.st.Cos) != 0 {
		t.Errorf("%d coroutines left, want none", len(s.st.Cos))
	}
}

func TestPlayWithoutReplyAnswersNil(t *testing.T) {
	s := playSim(t)
	res := s.play("x = 1", "p2")
	if got, ok := replyOf(t, res, "p2"); !ok || got != nil {
		t.Fatalf("reply = %v (%v), want nil", got, ok)
	}
}

func TestPlayErrorsAtSnippetPositions(t *testing.T) {
	_, err := CompileSnippet("x = 1\ny = (2 +\n")
	if err == nil {
		t.Fatal("no error for a broken snippet")
	}
	list, ok := err.(ErrorList)
	if !ok || len(list) == 0 {
		t.Fatalf("error %T %v, want an ErrorList", err, err)
	}
	if p := list[0].Pos; p.File != SnippetFile || p.Line != 2 {
		t.Errorf("error at %v, want snippet line 2: %v", p, err)
	}
	if !strings.Contains(list[0].Snippet, "y = (2 +") {
		t.Errorf("caret snippet %q does not show the snippet's line", list[0].Snippet)
	}
	if _, err := CompileSnippet("say \"hi\""); err == nil || !strings.Contains(err.Error(), "snippet:1:1") {
		t.Errorf("say in a snippet: %v, want an error at snippet:1:1", err)
	}
}

func TestPlayRuntimeErrorAndTimeLimit(t *testing.T) {
	s := playSim(t)
	res := s.play("x = 1\ny = x / nothing.field", "p3")
	if res.Err == nil || res.Err.Pos.Line != 2 || res.Err.TimeLimit {
		t.Fatalf("err = %+v, want a run-time error at line 2", res.Err)
	}
	s.env.Limits = Limits{MaxTurnTime: time.Millisecond, MaxSteps: 1 << 40}
	nested := "n = 0\nL = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" + strings.Repeat("repeat a in L do\n", 9) + "n = n + 1\n" + strings.Repeat("end\n", 9)
	res = s.play(nested, "p4") // 10^9 steps
	if res.Err == nil || !res.Err.TimeLimit {
		t.Fatalf("err = %+v, want the time limit", res.Err)
	}
	if _, ok := s.st.Vars["n"]; ok {
		t.Error("a snippet stopped by the time limit left its writes")
	}
}

func TestPlayCancelStopsAWaitingSnippet(t *testing.T) {
	s := playSim(t)
	res := s.play("pause 5\ncount = 99\nreply 1", "p5")
	if _, ok := replyOf(t, res, "p5"); ok || len(s.st.Cos) != 1 || len(s.st.Timers) != 1 {
		t.Fatalf("paused snippet: reply %v, %d coroutines, %d timers; want no reply, 1, 1", ok, len(s.st.Cos), len(s.st.Timers))
	}
	res = s.m.Turn(s.st, Input{Kind: InCancel, QueryID: "p5"}, s.env)
	if !res.Changed || len(s.st.Cos) != 0 || len(s.st.Timers) != 0 {
		t.Fatalf("after cancel: changed %v, %d coroutines, %d timers; want true, 0, 0", res.Changed, len(s.st.Cos), len(s.st.Timers))
	}
	if _, ok := s.st.Vars["count"]; ok {
		t.Error("the cancelled snippet ran on")
	}
}
