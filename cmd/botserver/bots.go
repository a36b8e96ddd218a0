package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"botserver/dsl"
	"botserver/persistence"
)

// botSource is where a running bot's scripts come from: a folder (from the
// config or create_bot's scripts_dir), watched for edits, or files given
// inline to create_bot.
type botSource struct {
	ID      string            `json:"id"`
	Name    string            `json:"name,omitempty"`
	Dir     string            `json:"scripts_dir,omitempty"`
	Files   map[string]string `json:"scripts,omitempty"`
	Slack   *SlackConfig      `json:"slack,omitempty"`
	Created bool              `json:"-"` // by create_bot: kept in the store's meta area
	stamp   string            // the folder's fingerprint when it was last compiled
	failed  string            // the fingerprint of a version that did not compile
}

// errCompile is a bot whose scripts do not compile; it wraps the ErrorList.
type errCompile struct {
	src  string // the folder, or "" for inline scripts
	list error
}

func (e *errCompile) Error() string {
	if e.src == "" {
		return e.list.Error()
	}
	return describeLoadError(e.src, e.list)
}

func (e *errCompile) Unwrap() error { return e.list }

// compile compiles the source's scripts, noting the folder's fingerprint.
func (s *botSource) compile() (*dsl.Bot, string, error) {
	var prog *dsl.Bot
	var err error
	stamp := ""
	if s.Dir != "" {
		if stamp, err = fingerprint(s.Dir); err != nil {
			return nil, "", fmt.Errorf("cannot read %s: %w", s.Dir, err)
		}
		prog, err = dsl.LoadBot(os.DirFS(s.Dir))
	} else {
		prog, err = dsl.CompileBot(s.Files)
	}
	var list dsl.ErrorList
	if errors.As(err, &list) {
		return nil, stamp, &errCompile{src: s.Dir, list: list}
	}
	return prog, stamp, err
}

// fingerprint hashes the names, sizes and times of a folder's script files.
func fingerprint(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, ".bot") || strings.HasSuffix(n, ".transcript") || n == "bot.json") {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed while listing
		} else if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", n, info.Size(), info.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// createdKey is the meta-area key of a bot made with create_bot.
func createdKey(id string) string { return "admin/bots/" + id }

// startBot compiles and starts a bot.
func (m *Main) startBot(src *botSource) error {
	prog, stamp, err := src.compile()
	if err != nil {
		return err
	}
	return m.addBot(src, prog, stamp)
}

// addBot starts a compiled bot; created bots are recorded so that they run
// again after a restart.
func (m *Main) addBot(src *botSource, prog *dsl.Bot, stamp string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sources[src.ID] != nil {
		return fmt.Errorf("bot %q exists", src.ID)
	}
	if err := m.rt.AddBot(src.ID, prog); err != nil {
		return err
	}
	if err := m.recordBot(src); err != nil {
		if rerr := m.rt.RemoveBot(src.ID); rerr != nil {
			m.Logger.Error("cannot remove a bot that failed to start", "bot", src.ID, "err", rerr)
		}
		return err
	}
	src.stamp = stamp
	m.sources[src.ID] = src
	m.Logger.Info("bot started", "bot", src.ID, "scripts", src.where(), "created", src.Created)
	return nil
}

// recordBot connects a started bot to Slack and, if it was created over
// the admin API, records it so that it runs again after a restart.
func (m *Main) recordBot(src *botSource) error {
	if err := m.addSlack(src.ID, src.Slack); err != nil {
		return err
	}
	if !src.Created {
		return nil
	}
	raw, _ := json.Marshal(src)
	if err := m.db.Meta().WriteSync(persistence.Op{Key: createdKey(src.ID), Value: raw}); err != nil {
		m.slack.RemoveBot(src.ID)
		return fmt.Errorf("cannot record bot %q: %w", src.ID, err)
	}
	return nil
}

func (s *botSource) where() string {
	if s.Dir != "" {
		return s.Dir
	}
	return "inline"
}

// restoreCreated starts the bots made with create_bot before a restart.
// One that no longer compiles (its folder changed) is logged and skipped.
func (m *Main) restoreCreated() error {
	var srcs []*botSource
	err := m.db.Meta().Scan("admin/bots/", func(key string, value []byte) error {
		src := &botSource{Created: true}
		if err := json.Unmarshal(value, src); err != nil {
			m.Logger.Error("bad record of a created bot", "key", key, "err", err)
			return nil
		}
		srcs = append(srcs, src)
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot read the created bots: %w", err)
	}
	for _, src := range srcs {
		if m.source(src.ID) != nil {
			m.Logger.Warn("a created bot has the id of a configured bot; the configured one runs", "bot", src.ID)
			continue
		}
		if err := m.startBot(src); err != nil {
			m.Logger.Error("created bot not started", "bot", src.ID, "err", err)
		}
	}
	return nil
}

func (m *Main) source(id string) *botSource {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sources[id]
}

// reload recompiles a bot (with files, replacing inline scripts) and swaps
// it in; a version that does not compile is refused and the running one
// stays.
func (m *Main) reload(id string, files map[string]string) error {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	cur := m.source(id)
	if cur == nil {
		return fmt.Errorf("%w: %s", errNoBot, id)
	}
	next := *cur
	if files != nil {
		if cur.Dir != "" {
			return fmt.Errorf("bot %q loads its scripts from %s: edit the files there", id, cur.Dir)
		}
		next.Files = files
	}
	prog, stamp, err := next.compile()
	if err != nil {
		m.markFailed(id, stamp)
		m.Logger.Error("script not reloaded; the running version stays", "bot", id, "err", err.Error())
		return err
	}
	if files != nil && next.Created {
		raw, _ := json.Marshal(&next)
		if err := m.db.Meta().WriteSync(persistence.Op{Key: createdKey(id), Value: raw}); err != nil {
			return fmt.Errorf("cannot record bot %q: %w", id, err)
		}
	}
	if err := m.rt.Reload(id, prog); err != nil {
		return err
	}
	m.mu.Lock()
	cur.Files, cur.stamp, cur.failed = next.Files, stamp, ""
	m.mu.Unlock()
	m.Logger.Info("script reloaded", "bot", id, "scripts", cur.where())
	return nil
}

// markFailed records a folder version that did not compile, so that the
// watcher does not report it again until it changes.
func (m *Main) markFailed(id, failed string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.sources[id]; s != nil {
		s.failed = failed
	}
}

// watch reloads bots whose script folders change, until ctx ends.
func (m *Main) watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, id := range m.changed() {
				m.reload(id, nil) // logs the outcome
			}
		}
	}
}

// changed lists the bots whose folders differ from what was compiled
// (and from a version already refused).
func (m *Main) changed() []string {
	m.mu.Lock()
	dirs := map[string]*botSource{}
	for id, s := range m.sources {
		if s.Dir != "" {
			dirs[id] = s
		}
	}
	m.mu.Unlock()
	var out []string
	for id, s := range dirs {
		stamp, err := fingerprint(s.Dir)
		if err != nil {
			continue // a folder being replaced; look again next time
		}
		m.mu.Lock()
		moved := stamp != s.stamp && stamp != s.failed
		m.mu.Unlock()
		if moved {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}
