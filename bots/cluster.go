package bots

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"botserver/persistence"
)

// Announce tells the other members of a cluster (Options.Announce) that
// bot changed over the admin API here: it was created (created) or
// reloaded. Without a cluster it does nothing.
func (r *Registry) Announce(bot string, created bool) {
	if r.announce != nil {
		r.announce(bot, created)
	}
}

// Apply does here what another member announced: it starts a bot created
// there (from its record in the shared store), or reloads one (a created
// bot from its record, which holds its new scripts; a configured one from
// its folder).
func (r *Registry) Apply(ctx context.Context, bot string, created bool) error {
	cur := r.Source(bot)
	if cur != nil && !cur.Created {
		return r.Reload(bot, nil)
	}
	src, err := r.createdRecord(bot)
	if err != nil {
		return err
	}
	if cur == nil {
		if !created {
			return fmt.Errorf("%w: %s", ErrNoBot, bot)
		}
		return r.Start(ctx, src)
	}
	if src.Files == nil {
		return r.Reload(bot, nil)
	}
	return r.Reload(bot, src.Files)
}

// createdRecord reads the record of a bot made with create_bot.
func (r *Registry) createdRecord(bot string) (*Source, error) {
	raw, err := persistence.Meta(r.db).Get(createdKey(bot))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s (no record of a created bot)", ErrNoBot, bot)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the record of bot %q: %w", bot, err)
	}
	src := &Source{Created: true}
	if err := json.Unmarshal(raw, src); err != nil {
		return nil, fmt.Errorf("bad record of bot %q: %w", bot, err)
	}
	return src, nil
}
