package admin

import (
	"context"
	"encoding/json"
	"fmt"

	"botserver"
	"botserver/platforms/web"
)

// The admin API's history method (docs/protocol.md): a conversation's
// recent frames as a resumed web client receives them.

type historyParams struct {
	Bot          string `json:"bot"`
	Conversation string `json:"conversation"` // its address: "web:8f2c" or "web:8f2c@~room"
	Limit        int    `json:"limit"`        // 0: all the store keeps
}

// maxHistoryLimit bounds limit (the store keeps at most 200 frames).
const maxHistoryLimit = 200

func (s *Server) rpcHistory(_ context.Context, params json.RawMessage) (any, *Error) {
	var p historyParams
	if e := decodeParams(params, &p); e != nil {
		return nil, e
	}
	conv, ok := botserver.ParseAddress(p.Bot, p.Conversation)
	switch {
	case p.Bot == "" || p.Conversation == "":
		return nil, invalidParams(`"bot" and "conversation" are required`)
	case !ok:
		return nil, invalidParams(fmt.Sprintf("conversation: %q is not a conversation's address (platform:user)", p.Conversation))
	case p.Limit < 0 || p.Limit > maxHistoryLimit:
		return nil, invalidParams(fmt.Sprintf("limit: %d must be between 0 (all) and %d", p.Limit, maxHistoryLimit))
	}
	frames, err := s.opts.Runtime.History(conv, p.Limit)
	if err != nil {
		return nil, runtimeError(err)
	}
	out := make([]json.RawMessage, 0, len(frames))
	for _, f := range frames {
		raw, err := web.HistoryFrame(f)
		if err != nil {
			s.log.Warn("cannot encode a history frame", "bot", p.Bot, "conv", p.Conversation, "err", err)
			continue
		}
		out = append(out, raw)
	}
	return map[string]any{"frames": out}, nil
}
