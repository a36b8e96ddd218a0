package dsl

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
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
	vocab    []string   // the distinct content words of all examples
	vstems   []string   // their stems
	exWords  [][]int    // each example's words, as indexes into vocab
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
	index := map[string]int{}
	for _, ex := range in.Examples {
		ws := newWordSet(ex)
		in.examples = append(in.examples, ws)
		ids := make([]int, len(ws.words))
		for i, w := range ws.words {
			id, ok := index[w]
			if !ok {
				id = len(in.vocab)
				index[w] = id
				in.vocab, in.vstems = append(in.vocab, w), append(in.vstems, ws.stemList[i])
			}
			ids[i] = id
		}
		in.exWords = append(in.exWords, ids)
	}
	return in, nil
}

func (in *Intent) compilePattern() error {
	if _, err := compileTrigger(in.Pattern); err != nil {
		return fmt.Errorf("bad match: pattern %q: %v", in.Pattern, err)
	}
	alts, _ := splitAlternatives(in.Pattern)
	var exact []string
	for _, a := range alts {
		if !plainWords(a) {
			exact = append(exact, a) // captures, entities, punctuation: matched exactly only
			continue
		}
		in.alts = append(in.alts, splitWords(strings.ToLower(a)))
	}
	if len(exact) > 0 {
		in.exact, _ = compileTrigger(strings.Join(exact, "|"))
	}
	return nil
}

// plainWords reports whether a pattern alternative is only words (letters
// and digits) and spaces: matching its words in a row with typos forgiven
// covers matching it exactly.
func plainWords(alt string) bool {
	if strings.TrimSpace(alt) == "" {
		return false
	}
	for _, r := range alt {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ' {
			return false
		}
	}
	return true
}

// stringList reads a list of strings.
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

// matchPattern reports whether the message matches the intent's match:
// pattern, with the captures of an exact match.
func (in *Intent) matchPattern(m *message) (map[string]string, bool) {
	for _, alt := range in.alts {
		if m.containsWords(alt) {
			return nil, true
		}
	}
	if in.exact != nil {
		if caps, ok := in.exact.match(m.text); ok {
			return caps, true
		}
	}
	return nil, false
}

// score is the similarity of the message to the intent's closest example
// (0 without examples).
func (in *Intent) score(m *message) float64 {
	if len(in.examples) == 0 {
		return 0
	}
	ms := m.content()
	if len(ms.words) == 0 {
		return 0
	}
	found := make([]bool, len(in.vocab))
	for i, w := range in.vocab {
		found[i] = m.has(w, in.vstems[i])
	}
	best := 0.0
	for _, ids := range in.exWords {
		shared := 0
		for _, id := range ids {
			if found[id] {
				shared++
			}
		}
		best = max(best, dice(shared, len(ms.words), len(ids)))
	}
	return best
}

// scored is a candidate whose examples matched a message.
type scored struct {
	i     int // its index among the candidates
	score float64
}

// byExamples ranks candidate intents whose closest example reaches
// ExampleThreshold, best first (source order among equals).
func byExamples(m *message, intents []*Intent) []scored {
	var out []scored
	for i, in := range intents {
		if in == nil {
			continue
		}
		if s := in.score(m); s >= ExampleThreshold {
			out = append(out, scored{i, s})
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].score > out[b].score })
	return out
}

// message is a user's text, split into words once for every intent that
// looks at it.
type message struct {
	text  string
	words []string        // lower case, in order
	set   *wordSet        // content words; built on first use
	seen  map[string]bool // example words found (or not) in the message, by word
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
	words    []string
	stemList []string // the stem of each word
	stems    map[string]bool
}

func newWordSet(text string) wordSet { return wordSetOf(splitWords(strings.ToLower(text))) }

func wordSetOf(words []string) wordSet {
	var content []string
	for _, w := range words {
		if !isStopWord(w) && utf8.RuneCountInString(w) > 1 {
			content = append(content, w)
		}
	}
	if len(content) == 0 {
		content = words
	}
	s := wordSet{stems: make(map[string]bool, len(content))}
	for _, w := range content {
		stem := stemOf(w)
		if !s.stems[stem] {
			s.stems[stem] = true
			s.words = append(s.words, w)
			s.stemList = append(s.stemList, stem)
		}
	}
	return s
}

func dice(shared, a, b int) float64 {
	if a+b == 0 {
		return 0
	}
	return 2 * float64(shared) / float64(a+b)
}

// has reports whether the message has an example's word: its stem, or,
// from minTypoLen letters on, a word one typo away. The answers are kept
// for the other intents.
func (m *message) has(w, stem string) bool {
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	found, known := m.seen[w]
	if !known {
		ms := m.content()
		found = ms.stems[stem] || ms.hasTypoOf(w)
		m.seen[w] = found
	}
	return found
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

// stemOf returns the English (Porter2) stem of a lower-case word.
func stemOf(w string) string {
	env := snowballstem.NewEnv(w)
	english.Stem(env)
	return env.Current()
}
