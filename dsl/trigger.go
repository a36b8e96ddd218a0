package dsl

import (
	"fmt"
	"regexp"
	"strings"
)

// compileTrigger turns a trigger pattern into one case-insensitive regexp.
//
// Alternatives are separated by |. Literal text matches anywhere in the
// message, on word boundaries (so "hi" matches "hi there" but not "this"),
// with any run of white space matching any other. #<name> captures the rest
// of the message; #<name:REGEX> captures what REGEX matches.
func compileTrigger(pattern string) (*trigger, error) {
	if strings.TrimSpace(pattern) == "" {
		return nil, fmt.Errorf("the pattern is empty")
	}
	alts, err := splitAlternatives(pattern)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("(?i)(?:")
	for i, alt := range alts {
		if i > 0 {
			b.WriteByte('|')
		}
		re, err := alternative(alt)
		if err != nil {
			return nil, err
		}
		b.WriteString(re)
	}
	b.WriteString(")")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("%v", err)
	}
	return &trigger{re: re, names: re.SubexpNames()}, nil
}

// splitAlternatives splits at | outside #<...>.
func splitAlternatives(p string) ([]string, error) {
	var alts []string
	depth, start := 0, 0
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '#' && i+1 < len(p) && p[i+1] == '<':
			depth++
			i++
		case p[i] == '>' && depth > 0:
			depth--
		case p[i] == '|' && depth == 0:
			alts = append(alts, p[start:i])
			start = i + 1
		}
	}
	if depth > 0 {
		return nil, fmt.Errorf("#< is not closed with >")
	}
	alts = append(alts, p[start:])
	for _, a := range alts {
		if strings.TrimSpace(a) == "" {
			return nil, fmt.Errorf("an alternative between | is empty")
		}
	}
	return alts, nil
}

// alternative compiles one alternative to regexp source.
func alternative(alt string) (string, error) {
	alt = strings.TrimSpace(alt)
	var b strings.Builder
	if isWordByte(alt[0]) {
		b.WriteString(`\b`)
	}
	rest := alt
	for rest != "" {
		i := strings.Index(rest, "#<")
		if i < 0 {
			b.WriteString(literalWithEntities(rest))
			break
		}
		b.WriteString(literalWithEntities(rest[:i]))
		end := strings.IndexByte(rest[i:], '>')
		capture, err := captureGroup(rest[i+2 : i+end])
		if err != nil {
			return "", err
		}
		b.WriteString(capture)
		rest = rest[i+end+1:]
	}
	if isWordByte(alt[len(alt)-1]) {
		b.WriteString(`\b`)
	}
	return b.String(), nil
}

// literalWithEntities compiles literal text in which [email], [url],
// [number], [integer] and [date] match such a value, captured as __email,
// __url, ...
func literalWithEntities(s string) string {
	locs := entityPlaceholder.FindAllStringSubmatchIndex(s, -1)
	if locs == nil {
		return literal(s)
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		kind := s[l[2]:l[3]]
		b.WriteString(literal(s[last:l[0]]))
		b.WriteString("(?P<__" + kind + ">" + entitySources[kind] + ")")
		last = l[1]
	}
	b.WriteString(literal(s[last:]))
	return b.String()
}

func literal(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	out := strings.Join(words, `\s+`)
	if len(s) > 0 && s[0] == ' ' && out != "" {
		out = `\s*` + out
	}
	if len(s) > 0 && s[len(s)-1] == ' ' {
		out += `\s*`
	}
	if out == "" && s != "" {
		out = `\s*`
	}
	return out
}

// captureGroup compiles the inside of #<name> or #<name:REGEX>.
func captureGroup(inner string) (string, error) {
	name, re, hasRe := strings.Cut(inner, ":")
	name = strings.TrimSpace(name)
	if !isName(name) {
		return "", fmt.Errorf("#<%s> needs a variable name, like #<name> or #<n:[0-9]+>", inner)
	}
	if runtimeOwned[name] || strings.HasPrefix(name, "_") {
		return "", fmt.Errorf("cannot capture into %s", name)
	}
	if !hasRe {
		return "(?P<" + name + ">.+)", nil
	}
	if _, err := regexp.Compile(re); err != nil || re == "" {
		if re == "" {
			return "", fmt.Errorf("#<%s:> has an empty regular expression", name)
		}
		return "", fmt.Errorf("#<%s:%s>: %v", name, re, err)
	}
	return "(?P<" + name + ">" + re + ")", nil
}

func isName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentPart(s[i]) {
			return false
		}
	}
	return true
}

func isWordByte(c byte) bool { return isIdentPart(c) || c >= 0x80 }
