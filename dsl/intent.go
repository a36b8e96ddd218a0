package dsl

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// Intent is a meaning a message can have, declared as a constant:
//
//	@order intent(match: "order|buy", label: "Order", examples: ["I would like a pizza"])
//
// A message matches it when its match: pattern matches (the trigger rules,
// with one typo forgiven in each word of 5 or more letters), or when it is
// similar enough to one of its examples (see similarity).
type Intent struct {
	ID       string // the constant's name, without @
	Label    string // shown on its quick reply; "" for none
	Pattern  string
	Examples []string

	exact    *trigger   // the match: pattern, exactly; nil without one
	alts     [][]string // the pattern's alternatives without captures, as lower-case words
	examples []wordSet  // the examples' content words
}

// ExampleThreshold is the similarity (Dice's coefficient of content words)
// from which a message matches an intent's example.
const ExampleThreshold = 0.5

// minTypoLen is the length (in letters) from which a word of an intent may
// have one typo.
const minTypoLen = 5

// Name is what a script sees of the intent: its label, or its id.
func (in *Intent) Name() string {
	if in.Label != "" {
		return in.Label
	}
	return in.ID
}

// view is the value of `intent` after a match: [id: "yes", label: "Yes"].
func (in *Intent) view() map[string]any {
	return map[string]any{"id": in.ID, "label": in.Name()}
}

// isIntent reports whether v stands for the intent: the intent itself,
// the [id:, label:] map it sets as intent, or its label or id (ignoring
// case).
func isIntent(v any, in *Intent) bool {
	switch x := v.(type) {
	case *Intent:
		return x.ID == in.ID
	case map[string]any:
		return x["id"] == in.ID
	case string:
		return strings.EqualFold(x, in.Name()) || strings.EqualFold(x, in.ID)
	}
	return false
}

// newIntent builds an intent from the options of intent(...).
func newIntent(opts map[string]any) (*Intent, error) {
	in := &Intent{}
	for _, k := range sortedMapKeys(opts) {
		v := opts[k]
		var err error
		switch k {
		case "match":
			in.Pattern, err = argAsString(v, "match: a pattern string")
		case "label":
			in.Label, err = argAsString(v, "label: a string")
		case "examples":
			in.Examples, err = stringList(v, "examples: a list of strings")
		default:
			hint := didYouMean(k, []string{"match", "label", "examples"}, ":")
			if hint == "" {
				hint = " (it takes match:, label: and examples:)"
			}
			return nil, fmt.Errorf("unknown option %s:%s", k, hint)
		}
		if err != nil {
			return nil, err
		}
	}
	if in.Pattern == "" && len(in.Examples) == 0 {
		return nil, fmt.Errorf("want match: or examples:, like intent(match: \"yes|yep\")")
	}
	if in.Pattern != "" {
		if err := in.compilePattern(); err != nil {
			return nil, err
		}
	}
	for _, ex := range in.Examples {
		in.examples = append(in.examples, newWordSet(ex))
	}
	return in, nil
}

func (in *Intent) compilePattern() error {
	t, err := compileTrigger(in.Pattern)
	if err != nil {
		return fmt.Errorf("bad match: pattern %q: %v", in.Pattern, err)
	}
	in.exact = t
	alts, _ := splitAlternatives(in.Pattern)
	for _, a := range alts {
		if strings.Contains(a, "#<") || hasEntityPlaceholder(a) {
			continue // captures and entities match exactly only
		}
		if words := splitWords(strings.ToLower(a)); len(words) > 0 {
			in.alts = append(in.alts, words)
		}
	}
	return nil
}

func stringList(v any, what string) ([]string, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, builtinWantError(what, v)
	}
	out := make([]string, len(l))
	for i, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, builtinWantError(what, v)
		}
		out[i] = s
	}
	return out, nil
}

// match reports whether the message matches the intent, with the captures
// of an exact match of its pattern.
func (in *Intent) match(m *message) (map[string]string, bool) {
	if in.exact != nil {
		if caps, ok := in.exact.match(m.text); ok {
			return caps, true
		}
		for _, alt := range in.alts {
			if m.containsWords(alt) {
				return nil, true
			}
		}
	}
	for i := range in.examples {
		if similarity(m, &in.examples[i]) >= ExampleThreshold {
			return nil, true
		}
	}
	return nil, false
}

// message is a user's text, split into words once for every intent that
// looks at it.
type message struct {
	text  string
	words []string // lower case, in order
	set   *wordSet // content words; built on first use
}

func newMessage(text string) *message {
	return &message{text: text, words: splitWords(strings.ToLower(text))}
}

func (m *message) content() *wordSet {
	if m.set == nil {
		s := wordSetOf(m.words)
		m.set = &s
	}
	return m.set
}

// containsWords reports whether the words occur in a row in the message,
// each equal or, from minTypoLen letters on, one typo away.
func (m *message) containsWords(want []string) bool {
	for i := 0; i+len(want) <= len(m.words); i++ {
		ok := true
		for j, w := range want {
			if !typoEqual(w, m.words[i+j]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// wordSet is the content words of a text: its words without English stop
// words (a, the, you, ...; all of them when that leaves none), with their
// Snowball stems.
type wordSet struct {
	words []string
	stems map[string]bool
}

func newWordSet(text string) wordSet { return wordSetOf(splitWords(strings.ToLower(text))) }

func wordSetOf(words []string) wordSet {
	var content []string
	for _, w := range words {
		if !english.IsStopWord(w) && utf8.RuneCountInString(w) > 1 {
			content = append(content, w)
		}
	}
	if len(content) == 0 {
		content = words
	}
	s := wordSet{stems: make(map[string]bool, len(content))}
	for _, w := range content {
		stem := english.Stem(w, true)
		if !s.stems[stem] {
			s.stems[stem] = true
			s.words = append(s.words, w)
		}
	}
	return s
}

// similarity is Dice's coefficient of the content words of a message and
// an example: 2 × shared / (message words + example words), where a word is
// shared when its stem is, or when it has minTypoLen letters or more and is
// one typo away from a word of the message.
func similarity(m *message, ex *wordSet) float64 {
	ms := m.content()
	if len(ms.words) == 0 || len(ex.words) == 0 {
		return 0
	}
	shared := 0
	for _, w := range ex.words {
		if ms.stems[english.Stem(w, true)] || ms.hasTypoOf(w) {
			shared++
		}
	}
	return 2 * float64(shared) / float64(len(ms.words)+len(ex.words))
}

func (s *wordSet) hasTypoOf(w string) bool {
	if utf8.RuneCountInString(w) < minTypoLen {
		return false
	}
	for _, x := range s.words {
		if typoEqual(w, x) {
			return true
		}
	}
	return false
}

// osaDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours.
func osaDistance(a, b []rune) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// splitWords splits lower-case text into words of letters and digits.
func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// typoEqual reports whether got is want, or, when want has minTypoLen
// letters or more, one insertion, deletion, substitution or swap of two
// neighbouring letters away from it.
func typoEqual(want, got string) bool {
	if want == got {
		return true
	}
	if utf8.RuneCountInString(want) < minTypoLen {
		return false
	}
	return oneEdit([]rune(want), []rune(got))
}

// oneEdit reports whether a and b differ by exactly one insertion,
// deletion, substitution or transposition of neighbours.
func oneEdit(a, b []rune) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	switch len(a) - len(b) {
	case 0:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		if i == len(a) {
			return false
		}
		if string(a[i+1:]) == string(b[i+1:]) {
			return true // substitution
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && string(a[i+2:]) == string(b[i+2:])
	case 1:
		i := 0
		for i < len(b) && a[i] == b[i] {
			i++
		}
		return string(a[i+1:]) == string(b[i:])
	}
	return false
}

// didYouMean suggests the closest of names: " (did you mean label:?)", or
// "" when none is close (one edit, or two for names of 6 letters or more;
// a swap of neighbours is one edit).
func didYouMean(got string, names []string, suffix string) string {
	best, bestD := "", 1
	if utf8.RuneCountInString(got) >= 6 {
		bestD = 2
	}
	bestD++
	for _, n := range names {
		if d := osaDistance([]rune(got), []rune(n)); d < bestD && d > 0 {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s%s?)", best, suffix)
}
