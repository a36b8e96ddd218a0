package dsl

import (
	"fmt"
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

// TestPlayStepLimit: a snippet's turn runs at most MaxPlaySteps statements,
// even when the host lifts MaxSteps (as the runtime does for plays), and
// its writes are undone.
func TestPlayStepLimit(t *testing.T) {
	s := playSim(t)
	s.env.Limits = Limits{MaxSteps: 1 << 40, MaxPlaySteps: 5000, MaxTurnTime: time.Minute}
	res := s.play("n = 0\nrepeat i in 1..100000 do\n  n = n + 1\nend", "p6")
	want := "snippet:2:1: step budget exhausted: more than 5000 statements in one turn (an endless loop?)"
	if res.Err == nil || res.Err.Error() != want {
		t.Fatalf("got %v, want %s", res.Err, want)
	}
	if _, ok := s.st.Vars["n"]; ok {
		t.Error("the stopped snippet left its writes")
	}
	if d := (Limits{MaxSteps: 1 << 40}).withDefaults(); d.MaxPlaySteps != 10_000_000 || d.MaxUndo != 100_000 ||
		d.MaxAllocBytes != 16<<20 || d.MaxLogBytes != 4096 {
		t.Errorf("defaults: %+v", d)
	}
}

// TestPlayUndoLog: a loop that writes the same variables keeps the undo log
// short; a snippet writing more distinct variables than MaxUndo fails with a
// clear error and its writes are undone, old values included.
func TestPlayUndoLog(t *testing.T) {
	s := playSim(t)
	s.env.Limits.MaxTurnTime = time.Minute // not a test of time
	s.st.Vars["count"] = 5
	res := s.play("repeat i in 1..20000 do\n  count = i\n  y = [i]\nend\nreply count", "p7")
	if got, _ := replyOf(t, res, "p7"); res.Err != nil || got != 20000 {
		t.Fatalf("reply %v, error %v; want 20000", got, res.Err)
	}
	if n := len(s.m.undo); n > undoIndexFrom+3 {
		t.Errorf("the undo log has %d records for 3 variables", n)
	}
	s.st.Vars["count"] = 5
	res = s.play("repeat i in 1..1000 do\n  count = i\n  y = i\nend\nz = nil + 1", "p8")
	if res.Err == nil || s.st.Vars["count"] != 5 || !Equal(s.st.Vars["y"], []any{20000}) {
		t.Fatalf("error %v, count %v; want a failure that restores count = 5", res.Err, s.st.Vars["count"])
	}
	var b strings.Builder
	for i := range 150 {
		fmt.Fprintf(&b, "v%d = %d\n", i, i)
	}
	s.env.Limits = Limits{MaxUndo: 100, MaxTurnTime: time.Minute}
	res = s.play(b.String(), "p9")
	want := "snippet:101:1: too many variables written in one turn: more than 100 (the undo log is full)"
	if res.Err == nil || res.Err.Error() != want {
		t.Fatalf("got %v, want %s", res.Err, want)
	}
	if _, ok := s.st.Vars["v0"]; ok || s.st.Vars["count"] != 5 {
		t.Errorf("writes of the failed snippet survived: %v", s.st.Vars)
	}
}

// TestUndoMarks: past undoIndexFrom records, a write after a mark is logged
// again, so that undoing to the mark restores the value at the mark.
func TestUndoMarks(t *testing.T) {
	m := &Machine{lim: Limits{}.withDefaults()}
	mp := map[string]any{"a": 0}
	for i := range 100 {
		m.setVar(mp, "a", i)
		m.setVar(mp, fmt.Sprint("k", i), i)
	}
	// Until the log is undoIndexFrom long every write is logged (32 of a,
	// 32 keys); from then on only the 68 new keys are.
	if len(m.undo) != undoIndexFrom+68 {
		t.Errorf("%d records, want %d", len(m.undo), undoIndexFrom+68)
	}
	mark := m.markUndo()
	m.setVar(mp, "a", "after")
	m.setVar(mp, "k5", "after")
	m.setVar(mp, "a", "again")
	m.undoTo(mark)
	if mp["a"] != 99 || mp["k5"] != 5 {
		t.Errorf("after undo to the mark: a=%v k5=%v, want 99 and 5", mp["a"], mp["k5"])
	}
	m.setVar(mp, "k7", "later")
	m.undoTo(0)
	if len(mp) != 1 || mp["a"] != 0 {
		t.Errorf("after undo to 0: %v, want only a=0", mp)
	}
}

// TestPlayCanceled: closing Env.Cancel stops a running snippet at its next
// check, rolled back.
func TestPlayCanceled(t *testing.T) {
	s := playSim(t)
	cancel := make(chan struct{})
	close(cancel)
	s.env.Cancel = cancel
	s.env.Limits = Limits{MaxSteps: 1 << 40, MaxTurnTime: time.Minute}
	res := s.play("n = 0\nrepeat i in 1..100000 do\n  n = n + 1\nend", "p10")
	want := "snippet:3:3: stopped: nobody waits for this turn any more"
	if res.Err == nil || !res.Err.Canceled || res.Err.Error() != want {
		t.Fatalf("got %+v, want %s", res.Err, want)
	}
	if _, ok := s.st.Vars["n"]; ok {
		t.Error("the canceled snippet left its writes")
	}
	res = s.play("n = all(1..100000, all(1..5, true))", "p11")
	if res.Err == nil || !res.Err.Canceled {
		t.Fatalf("inside an expression: got %+v, want canceled", res.Err)
	}
}
