package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"botserver/actors"
)

// The admin API's conversations method (docs/protocol.md): a bot's stored
// conversations, most recently active first, a page at a time.

type conversationsParams struct {
	Bot   string `json:"bot"`
	Limit int    `json:"limit,omitempty"` // 0: defaultConversations
	After string `json:"after,omitempty"` // the next of the previous page
}

// Limits on a page of conversations.
const (
	defaultConversations = 50
	maxConversations     = 500
)

// ConversationRow is one conversation in the list.
type ConversationRow struct {
	Address    string  `json:"address"`
	User       string  `json:"user"`
	Platform   string  `json:"platform"`
	LastActive string  `json:"last_active"` // RFC 3339
	WaitingIn  *string `json:"waiting_in"`  // the dialog with a pending ask, or null
}

// Conversations is the conversations method's result.
type Conversations struct {
	Conversations []ConversationRow `json:"conversations"`
	Next          string            `json:"next,omitempty"` // absent at the end
}

func (s *Server) rpcConversations(_ context.Context, params json.RawMessage) (any, *Error) {
	var p conversationsParams
	if e := decodeParams(params, &p); e != nil {
		return nil, e
	}
	switch {
	case p.Bot == "":
		return nil, invalidParams(`"bot" is required`)
	case p.Limit < 0 || p.Limit > maxConversations:
		return nil, invalidParams(fmt.Sprintf("limit: %d must be between 1 and %d (0: %d)", p.Limit, maxConversations, defaultConversations))
	case p.Limit == 0:
		p.Limit = defaultConversations
	}
	list, next, err := s.opts.Runtime.Conversations(p.Bot, p.Limit, p.After)
	if errors.Is(err, actors.ErrBadCursor) {
		return nil, invalidParams(fmt.Sprintf("after: %v", err))
	}
	if err != nil {
		return nil, runtimeError(err)
	}
	out := Conversations{Conversations: make([]ConversationRow, len(list)), Next: next}
	for i, c := range list {
		row := ConversationRow{Address: c.Address, User: c.Conv.User, Platform: c.Conv.Platform,
			LastActive: c.LastActive.UTC().Format(time.RFC3339)}
		if c.WaitingIn != "" {
			row.WaitingIn = &c.WaitingIn
		}
		out.Conversations[i] = row
	}
	return out, nil
}
