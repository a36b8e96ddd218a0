package admin

import (
	"context"
	"encoding/json"
	"time"
)

// The admin API's quarantine methods (docs/protocol.md): instances stopped
// after repeated failures, and their release.

type quarantineParams struct {
	Bot     string `json:"bot"`
	Address string `json:"address"` // release only
}

// QuarantinedRow is one quarantined instance.
type QuarantinedRow struct {
	Address  string `json:"address"`
	Kind     string `json:"kind"` // session, master or group
	Error    string `json:"error"`
	Since    string `json:"since"` // RFC 3339
	Failures int    `json:"failures"`
}

func (s *Server) rpcQuarantined(_ context.Context, params json.RawMessage) (any, *Error) {
	var p quarantineParams
	if e := decodeParams(params, &p); e != nil {
		return nil, e
	}
	if p.Bot == "" || p.Address != "" {
		return nil, invalidParams(`"bot" is required (and "address" belongs to release)`)
	}
	list, err := s.opts.Runtime.Quarantined(p.Bot)
	if err != nil {
		return nil, runtimeError(err)
	}
	rows := make([]QuarantinedRow, len(list))
	for i, q := range list {
		rows[i] = QuarantinedRow{Address: q.Addr, Kind: q.Kind, Error: q.Error, Since: q.Since.UTC().Format(time.RFC3339), Failures: q.Failures}
	}
	return map[string]any{"quarantined": rows}, nil
}

func (s *Server) rpcRelease(_ context.Context, params json.RawMessage) (any, *Error) {
	var p quarantineParams
	if e := decodeParams(params, &p); e != nil {
		return nil, e
	}
	if p.Bot == "" || p.Address == "" {
		return nil, invalidParams(`"bot" and "address" are required`)
	}
	if err := s.opts.Runtime.Release(p.Bot, p.Address); err != nil {
		return nil, runtimeError(err)
	}
	return struct{}{}, nil
}
