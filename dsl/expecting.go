package dsl

import (
	"sort"
	"strings"
)

// items evaluates the items of expecting: or quick_replies:, a list or a
// single item. Intents keep their Go form (they are not normalized), so
// that they can match.
func (m *Machine) items(e *Expr, what string) []any {
	switch v := m.eval(e).(type) {
	case nil:
		return nil
	case []any:
		return v
	case *Intent, Atom, string, int, float64, bool, map[string]any:
		return []any{v}
	default:
		n, err := Normalize(v)
		if l, ok := n.([]any); ok && err == nil {
			return l
		}
		m.abort(e.pos, "%s wants a list, got %s", what, TypeName(v))
	}
	return nil
}

// quickReplies are the labels shown for items, and what each sends when it
// differs from its label: intents show their label, [label:, value:] maps
// their label (and send their value), entity kinds (:email) show nothing,
// anything else is printed.
func (m *Machine) quickReplies(items []any, e *Expr) (labels, values []string) {
	differ := false
	for _, it := range items {
		var label, value string
		switch x := it.(type) {
		case *Intent:
			label = x.Name()
			value = label
		case Atom:
			if isEntityKind(string(x)) {
				continue
			}
			label = string(x)
			value = label
		case map[string]any:
			label, value = m.format(x["label"], e), m.format(labelValue(x), e)
		default:
			label = m.format(x, e)
			value = label
		}
		differ = differ || value != label
		labels = append(labels, label)
		values = append(values, value)
	}
	if !differ {
		values = nil
	}
	return labels, values
}

// labelValue is what a [label:, value:] item stands for: its value, or its
// label without one.
func labelValue(item map[string]any) any {
	if v, ok := item["value"]; ok {
		return v
	}
	return item["label"]
}

// accept finds the first of the ask's expecting: items that the reply fits
// and returns what the reply stands for; it sets intent or entity when an
// intent or an entity kind took it. Items are tried in order:
//   - an intent (@yes): when it matches; the value is its label (its name
//     without one), and intent becomes [id:, label:];
//   - an entity kind (:email, :url, :number, :integer, :date): when the
//     reply contains such a value; the value is that value, and entity
//     becomes [kind:, value:, text:];
//   - a map [label: "Large", value: "L"]: when the reply is the label or the
//     value (ignoring case and surrounding space); the value is its value;
//   - anything else: when the reply is it, printed (ignoring case and
//     surrounding space); the value is the item as written.
func (m *Machine) accept(in *instr, text string) (any, bool) {
	want := trimSpace(text)
	var msg *message
	items := m.items(in.b, "expecting:")
	intents := make([]*Intent, len(items))
	for i, item := range items {
		switch x := item.(type) {
		case *Intent:
			if msg == nil {
				msg = newMessage(text)
			}
			if _, ok := x.matchPattern(msg); ok {
				m.setVar(m.vars, "intent", x.view())
				return x.Name(), true
			}
			intents[i] = x
			continue
		case Atom:
			if isEntityKind(string(x)) {
				if ent, ok := findEntity(string(x), text, m.env.Now); ok {
					m.setVar(m.vars, "entity", ent.view())
					return ent.value, true
				}
				continue
			}
		case map[string]any:
			if equalFold(m.format(x["label"], in.b), want) || equalFold(m.format(labelValue(x), in.b), want) {
				return labelValue(x), true
			}
			continue
		}
		if equalFold(m.format(item, in.b), want) {
			return item, true
		}
	}
	if msg != nil {
		if best := byExamples(msg, intents); len(best) > 0 {
			x := intents[best[0].i]
			m.setVar(m.vars, "intent", x.view())
			return x.Name(), true
		}
	}
	return nil, false
}

// matchTrigger matches a trigger dialog's pattern or intent's pattern
// against text; msg is the text split into words, made on first use.
func (m *Machine) matchTrigger(pr *Proc, text string, msg **message) (map[string]string, bool) {
	if pr.intent == nil {
		return pr.trigger.match(text)
	}
	if *msg == nil {
		*msg = newMessage(text)
	}
	return pr.intent.matchPattern(*msg)
}

// exampleTriggers ranks the intent trigger dialogs whose examples match
// the message, best first.
func (m *Machine) exampleTriggers(msg *message) []*Proc {
	intents := make([]*Intent, len(m.prog.triggers))
	for i, pr := range m.prog.triggers {
		intents[i] = pr.intent
	}
	var out []*Proc
	for _, s := range byExamples(msg, intents) {
		out = append(out, m.prog.triggers[s.i])
	}
	return out
}

// setCaptures sets the variables a matching trigger fills: its captures,
// entity for an [email]-style placeholder (the first one), and intent for
// an intent.
func (m *Machine) setCaptures(pr *Proc, text string, caps map[string]string) {
	first, at := entity{}, -1
	for _, k := range sortedCaptureNames(caps) {
		v := caps[k]
		kind, isEntity := strings.CutPrefix(k, "__")
		if !isEntity {
			m.setVar(m.vars, k, v)
			continue
		}
		ent, ok := findEntity(kind, v, m.env.Now)
		if i := strings.Index(text, v); ok && (at < 0 || i < at) {
			first, at = ent, i
		}
	}
	if at >= 0 {
		m.setVar(m.vars, "entity", first.view())
	}
	if pr.intent != nil {
		m.setVar(m.vars, "intent", pr.intent.view())
	}
}

func sortedCaptureNames(caps map[string]string) []string {
	names := make([]string, 0, len(caps))
	for k := range caps {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
