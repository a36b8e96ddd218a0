package actors

import (
	"github.com/asynkron/protoactor-go/actor"
)

// botSupervisor is the root of one bot's subtree: a directory each for its
// sessions, its master and its groups, side by side, so that a crashing
// master never takes groups or sessions with it.
type botSupervisor struct {
	bot   *botRT
	ready chan struct{}
}

// Receive starts the directories.
func (s *botSupervisor) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); !ok {
		return
	}
	for _, k := range []addrKind{kindSession, kindMaster, kindGroup} {
		k := k
		props := actor.PropsFromProducer(func() actor.Actor { return newDirectory(s.bot, k) }, actor.WithDispatcher(s.bot.rt.dispatch))
		pid, err := ctx.SpawnNamed(props, k.String()+"s")
		if err != nil {
			panic(err)
		}
		s.bot.dirs[k] = pid
	}
	if s.ready != nil {
		close(s.ready)
		s.ready = nil
	}
}

// recordFailure counts a failure of one of the bot's actors; once they go
// over the restart policy the bot is marked failed and its actors stopped.
// It reports whether the bot has failed.
func (b *botRT) recordFailure() bool {
	policy := b.rt.opts.Restart
	now := b.rt.clock.Now()
	b.failMu.Lock()
	keep := b.failures[:0]
	for _, t := range b.failures {
		if now.Sub(t) <= policy.Within {
			keep = append(keep, t)
		}
	}
	b.failures = append(keep, now)
	over := len(b.failures) > policy.Max
	b.failMu.Unlock()
	if over && !b.failed.Swap(true) {
		b.log.Error("bot failed: too many actor failures", "max", policy.Max, "within", policy.Within)
		for _, d := range b.dirs {
			b.rt.system.Root.Stop(d)
		}
	}
	return over
}

// factory is the parent of every bot supervisor; bots are added and
// removed through it.

type factory struct {
	stopping map[string]chan struct{} // removed bots' supervisors, until they have stopped
}

// addBot starts a bot: its supervisor's pid goes to sup, and ready is
// closed once its directories run.
type addBot struct {
	bot   *botRT
	sup   chan *actor.PID // buffered
	ready chan struct{}
}

// removeBot stops a bot's supervisor; stopped is closed once it has.
type removeBot struct {
	pid     *actor.PID
	stopped chan struct{}
}

// Receive spawns and stops bot supervisors; each bot is on its own.
func (f *factory) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *addBot:
		bot := msg.bot
		props := actor.PropsFromProducer(func() actor.Actor { return &botSupervisor{bot: bot, ready: msg.ready} })
		msg.sup <- ctx.SpawnPrefix(props, "bot-"+bot.id+"-") // unique: a removed bot may not have stopped yet
	case *removeBot:
		if f.stopping == nil {
			f.stopping = map[string]chan struct{}{}
		}
		f.stopping[msg.pid.Id] = msg.stopped
		ctx.Stop(msg.pid)
	case *actor.Terminated:
		if stopped, ok := f.stopping[msg.Who.Id]; ok {
			close(stopped)
			delete(f.stopping, msg.Who.Id)
		}
	}
}
