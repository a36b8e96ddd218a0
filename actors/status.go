package actors

import (
	"sort"

	"botserver"
	"botserver/persistence"
)

// BotStatus is one row of the status table.
type BotStatus struct {
	ID       string
	Title    string
	Master   string // "running", "idle", "quarantined", "failed" or "none" (no master.bot)
	Sessions int    // resident conversations
	Groups   int    // groups that exist
	Failed   bool   // the bot cannot run its scripts (its directories kept failing)
	// Quarantined are the instances stopped after repeated failures (see
	// Runtime.Quarantined).
	Quarantined int
	// ResidentGroups are the groups whose actor is in memory.
	ResidentGroups int
	// Conversations are the conversations in the store (resident or not).
	Conversations int
}

// Status returns every bot's status, by id.
func (r *Runtime) Status() []BotStatus {
	r.mu.RLock()
	bots := make([]*botRT, 0, len(r.bots))
	for _, b := range r.bots {
		bots = append(bots, b)
	}
	r.mu.RUnlock()
	out := make([]BotStatus, 0, len(bots))
	for _, b := range bots {
		out = append(out, b.status())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (b *botRT) status() BotStatus {
	prog := b.program.Load()
	s := BotStatus{ID: b.id, Title: prog.Title, Failed: b.failed.Load(), Sessions: int(b.active[kindSession].Load()),
		ResidentGroups: int(b.active[kindGroup].Load()), Quarantined: int(b.nQuarantined.Load())}
	s.Groups, _ = b.store.Count(persistence.StateKey("~"))
	states, _ := b.store.Count(persistence.PrefixState)
	s.Conversations = states - s.Groups
	if _, err := b.store.Get(persistence.StateKey(botserver.MasterAddr)); err == nil {
		s.Conversations--
	}
	switch {
	case prog.Master == nil:
		s.Master = "none"
	case s.Failed:
		s.Master = "failed"
	case b.quarantined(botserver.MasterAddr):
		s.Master = "quarantined"
	case b.active[kindMaster].Load() > 0:
		s.Master = "running"
	default:
		s.Master = "idle"
	}
	return s
}

// crash is the message Crash sends: the instance panics on it.
type crash struct{}

// Crash makes the instance at addr of bot fail once, as a panic in its code
// would: the supervisor restarts it from its committed state. It is for
// tests and failure drills.
func (r *Runtime) Crash(bot, addr string) error {
	b := r.bot(bot)
	if b == nil {
		return botserver.ErrUnknownBot
	}
	b.route(addr, &crash{})
	return nil
}
