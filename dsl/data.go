package dsl

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxDataBytes is the size limit of one data file.
const MaxDataBytes = 4 << 20

// IsDataFile reports whether a file of a bot folder is a data file:
// NAME.json, NAME.yaml or NAME.yml, except bot.json. A host that watches a
// bot folder for changes watches these too.
func IsDataFile(name string) bool {
	switch path.Ext(name) {
	case ".json", ".yaml", ".yml":
		return name != "bot.json"
	}
	return false
}

// ParseData reads the data files among files (by file name) into constant
// values by name (faq.json is @faq), and returns a hash of them for
// Options.DataHash. Its error is an ErrorList naming each broken file with
// file:line:col and a caret.
func ParseData(files map[string]string) (map[string]any, string, error) {
	data := map[string]any{}
	var errs ErrorList
	h := sha256.New()
	names := make([]string, 0, len(files))
	for name := range files {
		if IsDataFile(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		src := files[name]
		v, err := parseDataFile(name, src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		key := strings.TrimSuffix(name, path.Ext(name))
		if _, dup := data[key]; dup {
			errs = append(errs, &Error{Pos: Pos{File: name}, Msg: fmt.Sprintf("@%s is also another data file of that name", key)})
			continue
		}
		data[key] = v
		fmt.Fprintf(h, "%s\x00%d\x00%s", name, len(src), src)
	}
	if len(data) == 0 {
		return nil, "", errs.Err()
	}
	return data, hex.EncodeToString(h.Sum(nil)[:12]), errs.Err()
}

// parseDataFile reads one data file.
func parseDataFile(name, src string) (any, *Error) {
	key := strings.TrimSuffix(name, path.Ext(name))
	fail := func(p Pos, format string, args ...any) *Error {
		p.File = name
		e := &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
		e.Snippet = snippet(src, p)
		return e
	}
	switch {
	case !isName(key) || strings.HasPrefix(key, "_"):
		return nil, fail(Pos{}, "a data file's name must be a name, like faq.json (it is read as @faq)")
	case key == "timeout" || key == "ask_timeout":
		return nil, fail(Pos{}, "@%s is a platform constant: name the file otherwise", key)
	case len(src) > MaxDataBytes:
		return nil, fail(Pos{}, "too large: %d bytes (a data file may have at most %d)", len(src), MaxDataBytes)
	}
	var v any
	var err error
	var at Pos
	if path.Ext(name) == ".json" {
		v, at, err = decodeJSONData(src)
	} else {
		v, at, err = decodeYAMLData(src)
	}
	if err != nil {
		return nil, fail(at, "%v", err)
	}
	n, err := Normalize(v)
	if err != nil {
		return nil, fail(Pos{}, "%v", err)
	}
	return n, nil
}

func decodeJSONData(src string) (any, Pos, error) {
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return nil, posAtOffset(src, int(dec.InputOffset())), errors.New("invalid JSON: more after the value")
		}
		return v, Pos{}, nil
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return nil, posAtOffset(src, int(syn.Offset)-1), fmt.Errorf("invalid JSON: %s", syn.Error())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, posAtOffset(src, len(src)), errors.New("invalid JSON: it ends too early")
	}
	return nil, Pos{}, fmt.Errorf("invalid JSON: %v", err)
}

var (
	yamlLine     = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlTypeLine = regexp.MustCompile(`^line (\d+): (.*)$`)
)

func decodeYAMLData(src string) (any, Pos, error) {
	var v any
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	err := dec.Decode(&v)
	if err == nil || errors.Is(err, io.EOF) {
		return v, Pos{}, nil
	}
	msg := err.Error()
	lines := strings.Count(src, "\n") + 1 // YAML also counts a lone \r as a line end
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return nil, Pos{Line: max(1, min(line, lines)), Col: 1}, fmt.Errorf("invalid YAML: %s", m[2])
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		if m := yamlTypeLine.FindStringSubmatch(te.Errors[0]); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, Pos{Line: max(1, min(line, lines)), Col: 1}, fmt.Errorf("invalid YAML: %s", m[2])
		}
	}
	return nil, Pos{}, fmt.Errorf("invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

// posAtOffset is the line and column (in runes) of a byte offset.
func posAtOffset(src string, off int) Pos {
	off = max(0, min(off, len(src)))
	before := src[:off]
	line := strings.Count(before, "\n") + 1
	col := len([]rune(before[strings.LastIndexByte(before, '\n')+1:])) + 1
	return Pos{Line: line, Col: col, Off: off}
}
