package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/bots"
	"botserver/cluster"
	"botserver/config"
	"botserver/dsl"
	"botserver/platforms/web"
)

// rpcMethods are the admin API's methods (docs/protocol.md).
func (s *Server) rpcMethods() map[string]rpcMethod {
	return map[string]rpcMethod{
		"status":        s.rpcStatus,
		"play":          s.rpcPlay,
		"create_bot":    s.rpcCreateBot,
		"connect_bot":   s.rpcConnectBot,
		"reload":        s.rpcReload,
		"history":       s.rpcHistory,
		"conversations": s.rpcConversations,
		"quarantined":   s.rpcQuarantined,
		"release":       s.rpcRelease,
	}
}

// StatusRow is one bot in the status table.
type StatusRow struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Master    string   `json:"master"`
	Sessions  int      `json:"sessions"`
	Groups    int      `json:"groups"`
	Platforms []string `json:"platforms"`
	WebURL    string   `json:"web_url"`
	// Quarantined counts the instances stopped after repeated failures
	// (the quarantined method lists them).
	Quarantined int `json:"quarantined"`
}

type Status struct {
	Bots []StatusRow `json:"bots"`
	// Cluster is every member's view, this one's first (absent on a
	// single node).
	Cluster []cluster.Status `json:"cluster,omitempty"`
}

// clusterWait bounds how long status waits for the other members.
const clusterWait = 2 * time.Second

func (s *Server) rpcStatus(ctx context.Context, params json.RawMessage) (any, *Error) {
	if e := decodeParams(params, &struct{}{}); e != nil {
		return nil, e
	}
	st := s.status()
	if s.opts.Cluster != nil {
		ctx, cancel := context.WithTimeout(ctx, clusterWait)
		defer cancel()
		st.Cluster = s.opts.Cluster.ClusterStatus(ctx)
	}
	return st, nil
}

// status is the table `botserver status` shows.
func (s *Server) status() Status {
	out := Status{Bots: []StatusRow{}}
	for _, b := range s.opts.Runtime.Status() {
		name := b.Title
		if src := s.opts.Bots.Source(b.ID); src != nil && src.Name != "" {
			name = src.Name
		}
		if name == "" {
			name = b.ID
		}
		out.Bots = append(out.Bots, StatusRow{ID: b.ID, Name: name, Master: b.Master, Sessions: b.Sessions,
			Groups: b.Groups, Platforms: s.platformsOf(b.ID), WebURL: s.opts.PublicURL + "/chat/" + b.ID, Quarantined: b.Quarantined})
	}
	return out
}

// platformsOf lists the platforms a bot can be reached on.
func (s *Server) platformsOf(bot string) []string {
	out := []string{web.Name}
	if s.opts.Bots.SlackReachable(bot) {
		out = append(out, "slack")
	}
	return out
}

type playParams struct {
	Bot       string `json:"bot"`
	Script    string `json:"script"`
	TimeoutMS int    `json:"timeout_ms"`
}

const (
	playDefaultTimeout = time.Second
	playMaxTimeout     = time.Minute
)

func (s *Server) rpcPlay(ctx context.Context, params json.RawMessage) (any, *Error) {
	return s.play(ctx, params, true)
}

// play runs a snippet in the bot's master: here, or (mayForward) on the
// member of a cluster that hosts the master, which gets the same params.
func (s *Server) play(ctx context.Context, params json.RawMessage, mayForward bool) (any, *Error) {
	var p playParams
	if e := decodeParams(params, &p); e != nil {
		return nil, e
	}
	timeout := time.Duration(p.TimeoutMS) * time.Millisecond
	switch {
	case p.Bot == "" || p.Script == "":
		return nil, invalidParams("bot and script are required")
	case p.TimeoutMS < 0 || timeout > playMaxTimeout:
		return nil, invalidParams(fmt.Sprintf("timeout_ms: %d must be between 1 and %d", p.TimeoutMS, playMaxTimeout.Milliseconds()))
	case p.TimeoutMS == 0:
		timeout = playDefaultTimeout
	}
	proc, err := dsl.CompileSnippet(p.Script)
	if err != nil {
		return nil, scriptError(err)
	}
	if c := s.opts.Cluster; mayForward && c != nil && s.opts.Runtime.HasBot(p.Bot) {
		if owner := c.Owner(p.Bot, botserver.MasterAddr); owner != "" && owner != c.Self() {
			return s.forward(ctx, owner, "play", params, timeout+forwardGrace)
		}
	}
	v, err := s.opts.Runtime.Play(ctx, p.Bot, proc, timeout)
	if err != nil {
		return nil, runtimeError(err)
	}
	return map[string]any{"result": jsonValue(v)}, nil
}

// jsonValue is a script value as JSON can carry it (atoms are strings;
// a float JSON cannot hold is formatted).
func jsonValue(v any) any {
	if _, err := json.Marshal(v); err != nil {
		return dsl.Format(v)
	}
	return v
}

type createParams struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	Scripts    map[string]string   `json:"scripts"`
	ScriptsDir string              `json:"scripts_dir"`
	Slack      *config.SlackConfig `json:"slack"`
}

func (s *Server) rpcCreateBot(ctx context.Context, params json.RawMessage) (any, *Error) {
	var p createParams
	if e := decodeParams(params, &p); e != nil {
		return nil, e
	}
	switch {
	case !botserver.ValidBotID(p.ID):
		return nil, invalidParams(fmt.Sprintf("id: %q must match %s", p.ID, botserver.BotIDPattern))
	case (p.Scripts == nil) == (p.ScriptsDir == ""):
		return nil, invalidParams("give either scripts (file name → source) or scripts_dir")
	case s.opts.Bots.Source(p.ID) != nil || s.opts.Runtime.HasBot(p.ID):
		return nil, &Error{Code: CodeConflict, Message: fmt.Sprintf("bot %q exists", p.ID)}
	case p.Slack != nil:
		if errs := config.ValidateSlack("slack", p.Slack); len(errs) > 0 {
			return nil, invalidParams(errors.Join(errs...).Error())
		}
	}
	src := &bots.Source{ID: p.ID, Name: p.Name, Files: p.Scripts, Slack: p.Slack, Created: true}
	if p.ScriptsDir != "" {
		dir, err := filepath.Abs(p.ScriptsDir)
		if st, serr := os.Stat(dir); err != nil || serr != nil || !st.IsDir() {
			return nil, invalidParams(fmt.Sprintf("scripts_dir: %q is not a folder on the server", p.ScriptsDir))
		}
		src.Dir = dir
	}
	if err := s.opts.Bots.Start(context.WithoutCancel(ctx), src); err != nil { // whole or not at all, even if the client goes
		return nil, runtimeError(err)
	}
	s.opts.Bots.Announce(p.ID, true) // the other members of a cluster start it too
	return map[string]any{"id": p.ID}, nil
}

type reloadParams struct {
	Bot     string            `json:"bot"`
	Scripts map[string]string `json:"scripts"`
}

func (s *Server) rpcReload(_ context.Context, params json.RawMessage) (any, *Error) {
	var p reloadParams
	if e := decodeParams(params, &p); e != nil {
		return nil, e
	}
	if err := s.opts.Bots.Reload(p.Bot, p.Scripts); err != nil {
		return nil, runtimeError(err)
	}
	s.opts.Bots.Announce(p.Bot, false) // the other members of a cluster reload it too
	return struct{}{}, nil
}

type connectParams struct {
	Bot      string `json:"bot"`
	Platform string `json:"platform"`
	BotToken string `json:"bot_token"`
	TeamID   string `json:"team_id"`
}

func (s *Server) rpcConnectBot(_ context.Context, params json.RawMessage) (any, *Error) {
	var p connectParams
	if e := decodeParams(params, &p); e != nil {
		return nil, e
	}
	switch {
	case p.Platform != "slack":
		return nil, invalidParams(fmt.Sprintf("platform: %q cannot be connected (only \"slack\")", p.Platform))
	case p.BotToken == "" || p.TeamID == "":
		return nil, invalidParams("bot_token and team_id are required")
	case !s.opts.Runtime.HasBot(p.Bot):
		return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("no such bot: %q", p.Bot)}
	}
	if err := s.opts.Bots.ConnectSlack(p.Bot, p.BotToken, p.TeamID); err != nil {
		return nil, &Error{Code: CodeServer, Message: err.Error()}
	}
	return struct{}{}, nil
}

func invalidParams(msg string) *Error {
	return &Error{Code: CodeInvalidParams, Message: "invalid params: " + msg}
}

// scriptError is a compile or run-time error, with each position.
func scriptError(err error) *Error {
	type place struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Col     int    `json:"col"`
		Message string `json:"message"`
	}
	var list dsl.ErrorList
	var rt *dsl.RuntimeError
	var places []place
	switch {
	case errors.As(err, &list):
		for _, e := range list {
			places = append(places, place{e.Pos.File, e.Pos.Line, e.Pos.Col, e.Msg})
		}
	case errors.As(err, &rt):
		places = append(places, place{rt.Pos.File, rt.Pos.Line, rt.Pos.Col, rt.Msg})
	}
	msg := err.Error()
	if len(places) > 0 && places[0].File == dsl.SnippetFile {
		p := places[0] // a snippet's positions are line:col of the snippet
		msg = fmt.Sprintf("%d:%d: %s", p.Line, p.Col, p.Message)
	}
	return &Error{Code: CodeScript, Message: msg, Data: map[string]any{"errors": places}}
}

// runtimeError maps an error of the runtime or of a reload to its code.
func runtimeError(err error) *Error {
	var rt *dsl.RuntimeError
	var list dsl.ErrorList // also under a reload's errCompile
	switch {
	case errors.Is(err, actors.ErrPlayTimeout):
		return &Error{Code: CodeTimeout, Message: "timeout"}
	case errors.As(err, &rt), errors.As(err, &list):
		return scriptError(err)
	case errors.Is(err, botserver.ErrUnknownBot), errors.Is(err, bots.ErrNoBot), errors.Is(err, actors.ErrNotQuarantined):
		return &Error{Code: CodeNotFound, Message: err.Error()}
	case errors.Is(err, actors.ErrBotExists):
		return &Error{Code: CodeConflict, Message: err.Error()}
	case errors.Is(err, context.Canceled):
		return &Error{Code: CodeServer, Message: "cancelled"}
	}
	return &Error{Code: CodeServer, Message: err.Error()}
}
