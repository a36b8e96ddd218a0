package dsl

import "fmt"

// interrupted reports why the turn must stop now, or nil: it ran past its
// time limit, or Env.Cancel was closed. Statements check it every 1024 steps
// (step), predicate loops every 1024 iterations (turnRT.tick).
func (m *Machine) interrupted() *RuntimeError {
	if m.env.Stopwatch != nil && m.env.Stopwatch().Sub(m.started) > m.lim.MaxTurnTime {
		return &RuntimeError{TimeLimit: true, Msg: fmt.Sprintf("turn took longer than %v (an endless loop?)", m.lim.MaxTurnTime)}
	}
	return m.canceled()
}

func (m *Machine) canceled() *RuntimeError {
	if m.env.Cancel == nil {
		return nil
	}
	select {
	case <-m.env.Cancel:
		return &RuntimeError{Canceled: true, Msg: "stopped: nobody waits for this turn any more"}
	default:
		return nil
	}
}
