package actors

import "github.com/asynkron/protoactor-go/actor"

// botSupervisor is the root of one bot's subtree: a directory each for its
// sessions, its master and its groups, side by side, so that a crashing
// master never takes groups or sessions with it, and the bot's platform
// receivers (receiver.go).
type botSupervisor struct {
	bot       *botRT
	ready     chan struct{}
	receivers map[string]*receiverRun // by the receiver actor's pid id
}

// Receive starts the directories, and receivers when asked.
func (s *botSupervisor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		s.start(ctx)
	case *addReceiver:
		s.spawnReceiver(ctx, msg)
	case *actor.Terminated:
		delete(s.receivers, msg.Who.Id)
	}
}

// start spawns the directories.
func (s *botSupervisor) start(ctx actor.Context) {
	for _, k := range []addrKind{kindSession, kindMaster, kindGroup} {
		k := k
		props := actor.PropsFromProducer(func() actor.Actor { return newDirectory(s.bot, k) }, actor.WithDispatcher(s.bot.rt.dispatcherFor(k)))
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

// HandleFailure restarts a failing directory. Failures of instances are
// their own (see directory.HandleFailure: an instance that keeps failing
// is quarantined); a directory that keeps failing means the bot cannot
// run its scripts at all: the bot is marked failed and its actors stopped.
// A failed receiver is restarted after its pause, whatever its count.
func (s *botSupervisor) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason any, _ any) {
	if s.restartReceiver(sup, child, reason) {
		return
	}
	b, policy := s.bot, s.bot.rt.opts.Restart
	b.log.Error("bot directory failed", "dir", child.Id, "reason", reason)
	rs.Fail()
	if rs.NumberOfFailures(policy.Within) <= policy.Max {
		sup.RestartChildren(child)
		return
	}
	if !b.failed.Swap(true) {
		b.log.Error("bot failed: its directories keep failing", "max", policy.Max, "within", policy.Within)
		for _, d := range b.dirs {
			b.rt.system.Root.Stop(d)
		}
	}
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
		pid := ctx.SpawnPrefix(props, "bot-"+bot.id+"-") // unique: a removed bot may not have stopped yet
		msg.sup <- pid
		if bot.failed.Load() { // removed or given up while starting (Runtime.abandon): after the send, so one of us stops it
			ctx.Stop(pid)
		}
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
