package bots

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"botserver/config"
	"botserver/dsl"
)

// Source is where a running bot's scripts come from: a folder (from the
// config or create_bot's scripts_dir), watched for edits, or files given
// inline to create_bot.
type Source struct {
	ID      string              `json:"id"`
	Name    string              `json:"name,omitempty"`
	Dir     string              `json:"scripts_dir,omitempty"`
	Files   map[string]string   `json:"scripts,omitempty"`
	Slack   *config.SlackConfig `json:"slack,omitempty"`
	Web     *config.WebConfig   `json:"web,omitempty"`
	Created bool                `json:"-"` // by create_bot: kept in the store's meta area
	stamp   string              // the folder's fingerprint when it was last compiled
	failed  string              // the fingerprint of a version that did not compile
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
	return DescribeLoadError(e.src, e.list)
}

func (e *errCompile) Unwrap() error { return e.list }

// Compile compiles the source's scripts, noting the folder's fingerprint.
func (s *Source) Compile() (*dsl.Bot, string, error) {
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

// fingerprint hashes the names, sizes and times of a folder's script,
// transcript and data files (NAME.json, NAME.yaml: dsl.IsDataFile) and
// bot.json.
func fingerprint(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, ".bot") || strings.HasSuffix(n, ".transcript") || n == "bot.json" || dsl.IsDataFile(n)) {
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

// Compiled is a bot of the config with its program.
type Compiled struct {
	Src   *Source
	Prog  *dsl.Bot
	Stamp string // the folder's fingerprint before it was compiled
}

// Compile compiles every bot's scripts; the error lists each failing
// file:line:col.
func Compile(cfg []config.BotConfig) ([]Compiled, error) {
	var out []Compiled
	var errs []error
	for i, b := range cfg {
		src := &Source{ID: b.ID, Name: b.Name, Dir: b.Scripts, Slack: b.Slack, Web: b.Web}
		prog, stamp, err := src.Compile()
		if err != nil {
			errs = append(errs, fmt.Errorf("bots[%d].scripts: %q does not compile:\n%s", i, b.Scripts, indent(err.Error())))
			continue
		}
		out = append(out, Compiled{src, prog, stamp})
	}
	return out, errors.Join(errs...)
}

// DescribeLoadError renders a LoadBot error with file:line:col paths
// under dir.
func DescribeLoadError(dir string, err error) string {
	var list dsl.ErrorList
	if !errors.As(err, &list) {
		return err.Error()
	}
	lines := make([]string, len(list))
	for i, e := range list {
		lines[i] = Prefixed(dir, e)
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// Prefixed renders an error with the folder in front of the file name.
func Prefixed(dir string, e *dsl.Error) string {
	c := *e
	c.Pos.File = filepath.Join(dir, e.Pos.File)
	return c.Error()
}
