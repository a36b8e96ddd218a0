package dsl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExamples compiles every bot under scripts/examples and runs each of
// its scripts: a session gets a few messages, coordinators are started, and
// no turn may fail.
func TestExamples(t *testing.T) {
	dirs, err := filepath.Glob("../scripts/examples/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			bot, err := LoadBot(os.DirFS(dir))
			if err != nil {
				t.Fatalf("%s:\n%v", dir, err)
			}
			if len(bot.Transcripts) == 0 {
				t.Errorf("%s has no transcript", dir)
			}
			for _, r := range []Role{RoleSession, RoleMaster, RoleGroup} {
				if p := bot.Program(r); p != nil {
					smokeRun(t, p)
				}
			}
		})
	}
}

func smokeRun(t *testing.T, p *Program) {
	s := newSim(t, p, true)
	inputs := []Input{{Kind: InStart}, Message("hello"), Message("help"), Message("yes"), Message("1")}
	if p.Role != RoleSession {
		inputs = inputs[:1]
	}
	for _, in := range inputs {
		res := s.m.Turn(s.st, in, s.env)
		if res.Err != nil {
			t.Fatalf("%s: %v", p.File, res.Err)
		}
		s.wait(2 * time.Second) // let pauses and query timeouts fire
	}
	if out := s.out.String(); strings.Contains(out, "error ") {
		t.Fatalf("%s: a timer turn failed:\n%s", p.File, out)
	}
}
