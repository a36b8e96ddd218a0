package dsl

import (
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// StateSummary is what a list of conversations shows of a stored state.
type StateSummary struct {
	Active time.Time // State.Active; zero when no turn recorded it
	// WaitingIn is the dialog whose ask waits for an answer ("" for none):
	// its name, or "dialog@LINE" for an unnamed (trigger) dialog.
	WaitingIn string
}

// SummarizeState reads a StateSummary out of stored state bytes (written
// by AppendState) without a program and without decoding the variables.
func SummarizeState(b []byte) (StateSummary, error) {
	var s StateSummary
	err := eachField(b, func(f field) error {
		switch f.num {
		case 4:
			if err := f.want(protowire.BytesType); err != nil {
				return err
			}
			if proc, err := askingProc(f.raw); err != nil || proc != "" {
				s.WaitingIn = dialogName(proc)
				return err
			}
		case 12:
			s.Active = time.Unix(0, int64(f.n)).UTC()
		}
		return nil
	})
	if err != nil {
		return StateSummary{}, fmt.Errorf("corrupt state: %w", err)
	}
	return s, nil
}

// askingProc returns the key of the innermost frame of a coroutine that
// waits on an ask, "" when it does not.
func askingProc(co []byte) (string, error) {
	var top string
	var asking bool
	err := eachField(co, func(f field) error {
		switch f.num {
		case 3:
			return eachField(f.raw, func(fr field) error {
				if fr.num == 1 {
					top = fr.str()
				}
				return nil
			})
		case 4:
			return eachField(f.raw, func(w field) error {
				if w.num == 1 {
					asking = WaitKind(w.n) == WaitAsk
				}
				return nil
			})
		}
		return nil
	})
	if !asking {
		return "", err
	}
	return top, err
}

// dialogName turns a proc key ("dialog:main#0", "dialog@12") into what an
// operator reads: "main", "dialog@12".
func dialogName(key string) string {
	if _, name, ok := strings.Cut(key, ":"); ok {
		name, _, _ = strings.Cut(name, "#")
		return name
	}
	return key
}
