package actors

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"botserver"
	"botserver/dsl"

	"github.com/asynkron/protoactor-go/actor"
)

// Errors of Play.
var (
	ErrPlayTimeout = errors.New("timeout")
	ErrNoMaster    = errors.New("the bot has no master.bot")
)

// playSender prefixes the reply address of a snippet; no instance address
// starts with it.
const playSender = "play/"

// play runs a snippet in a master; the turn stops at deadline, or when
// stop is closed (Play returned: its caller went away or gave up).
type play struct {
	id       string
	proc     *dsl.Proc
	deadline time.Time
	stop     <-chan struct{}
}

// playCancel stops the snippet run as id (its caller stopped waiting).
type playCancel struct{ id string }

// playResult is a snippet's reply or failure.
type playResult struct {
	value any
	err   error
}

// plays are the snippets waiting for their result, by id.
type plays struct {
	mu      sync.Mutex
	waiting map[string]chan playResult
	next    uint64
}

func (p *plays) add() (string, chan playResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waiting == nil {
		p.waiting = map[string]chan playResult{}
	}
	p.next++
	id := strconv.FormatUint(p.next, 36)
	ch := make(chan playResult, 1)
	p.waiting[id] = ch
	return id, ch
}

// take removes snippet id from the waiting ones; it returns its channel,
// or nil when the snippet is no longer waited for.
func (p *plays) take(id string) chan playResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch := p.waiting[id]
	delete(p.waiting, id)
	return ch
}

// finish hands the result to the caller, if it still waits.
func (p *plays) finish(id string, res playResult) {
	if ch := p.take(id); ch != nil {
		ch <- res
	}
}

// Play runs a snippet (dsl.CompileSnippet) as a task in the master of bot
// and returns what it replies (nil without a reply). A run-time error is
// a *dsl.RuntimeError at the snippet's line:col. A snippet still running
// (or waiting on a query or a pause) after timeout is stopped, its writes
// of that turn undone, and Play returns ErrPlayTimeout; so is one whose
// caller's ctx ends (Play returns ctx's error at once, and the turn stops
// at its next check: the master is free for other inputs). It also returns
// botserver.ErrUnknownBot, botserver.ErrBotFailed, botserver.ErrQuarantined, botserver.ErrUnavailable,
// ErrNoMaster, or ctx's error.
func (r *Runtime) Play(ctx context.Context, bot string, proc *dsl.Proc, timeout time.Duration) (any, error) {
	b := r.bot(bot)
	switch {
	case b == nil:
		return nil, fmt.Errorf("%w: %s", botserver.ErrUnknownBot, bot)
	case b.failed.Load():
		return nil, fmt.Errorf("%w: %s", botserver.ErrBotFailed, bot)
	case b.quarantined(botserver.MasterAddr):
		return nil, fmt.Errorf("%w: the master of %s", botserver.ErrQuarantined, bot)
	case r.unavailable() != nil:
		return nil, fmt.Errorf("%w: %v", botserver.ErrUnavailable, r.unavailable())
	case b.program.Load().Master == nil:
		return nil, fmt.Errorf("%w: %s", ErrNoMaster, bot)
	case !b.local(botserver.MasterAddr):
		return nil, fmt.Errorf("the master of %s is %w (the members' views differ for a moment): try again", bot, ErrMoved)
	}
	id, ch := r.plays.add()
	deadline := r.clock.Now().Add(timeout)
	stop := make(chan struct{})
	defer close(stop) // a turn still running when Play returns has nobody to answer
	b.route(botserver.MasterAddr, &play{id: id, proc: proc, deadline: deadline, stop: stop})
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var err error
	select {
	case res := <-ch:
		return res.value, res.err
	case <-timer.C:
		err = ErrPlayTimeout
	case <-ctx.Done():
		err = ctx.Err()
	}
	if r.plays.take(id) == nil { // finished just now: its result is on the way
		res := <-ch
		return res.value, res.err
	}
	b.route(botserver.MasterAddr, &playCancel{id: id})
	return nil, err
}

// playTurn runs a snippet: its turn may take until the deadline, however
// many statements that is.
func (a *instance) playTurn(ctx actor.Context, p *play) {
	left := p.deadline.Sub(a.rt().clock.Now())
	if a.kind != kindMaster || left <= 0 {
		a.rt().plays.finish(p.id, playResult{err: ErrPlayTimeout})
		return
	}
	a.refreshProgram()
	env := a.env()
	env.Limits.MaxTurnTime = left
	env.Limits.MaxSteps = 1 << 40
	env.Cancel = p.stop
	in := dsl.Input{Kind: dsl.InPlay, Play: p.proc, Sender: playSender + p.id, QueryID: p.id}
	if err := a.turnEnv(ctx, in, env, nil); err != nil {
		var res playResult
		if res.err = err; err.TimeLimit || err.Canceled {
			res.err = ErrPlayTimeout
		}
		a.rt().plays.finish(p.id, res)
	}
}

// answerPlay is a snippet's reply, released after its turn is durable.
func (a *instance) answerPlay(e *dsl.Effect) bool {
	id, ok := strings.CutPrefix(e.To, playSender)
	if ok {
		a.rt().plays.finish(id, playResult{value: e.Payload})
	}
	return ok
}
