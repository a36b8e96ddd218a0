package dsl

import "strings"

// triggerOf compiles a trigger dialog's pattern, or finds its intent
// constant; it reports whether the dialog has a trigger now.
func (c *compiler) triggerOf(pr *Proc, t *token) bool {
	if t.kind == tConst {
		v, ok := c.constant(t.text)
		in, isIntent := v.(*Intent)
		switch {
		case !ok:
			c.errorf(t.pos, "unknown constant @%s%s", t.text, didYouMean("@"+t.text, c.constNames(), ""))
			return false
		case !isIntent:
			c.errorf(t.pos, "trigger: @%s is a %s, not an intent (declare it as @%s intent(match: \"...\"))", t.text, TypeName(v), t.text)
			return false
		}
		pr.intent = in
		return true
	}
	tr, err := compileTrigger(t.parts0())
	if err != nil {
		c.errorf(t.pos, "bad trigger pattern %s: %v", t.text, err)
		return false
	}
	pr.trigger = tr
	return true
}

// constNames lists the constants, for suggestions.
func (c *compiler) constNames() []string {
	names := make([]string, 0, len(c.prog.Consts))
	for k := range c.prog.Consts {
		names = append(names, "@"+k)
	}
	return names
}

// userMessageHook is the dialog name of the hook that runs for every user
// message.
const userMessageHook = "__user_message__"

// beforeHooks registers the `task before: NAME` hooks of dialog NAME (or
// of every user message), in source order.
func (c *compiler) beforeHooks(decls []*procDecl) {
	for i, d := range decls {
		if d.before != nil {
			c.beforeHook(c.prog.Procs[i], d)
		}
	}
}

func (c *compiler) beforeHook(pr *Proc, d *procDecl) {
	name := d.before.text
	if name != userMessageHook && len(c.prog.dialogs[name]) == 0 {
		c.errorf(d.before.pos, "unknown dialog %q in before:%s", name, didYouMean(name, c.dialogNames(), ""))
		return
	}
	pr.Before = name
	c.prog.hooks[name] = append(c.prog.hooks[name], pr)
}

// dialogNames lists the dialogs and the special dialogs, for suggestions.
func (c *compiler) dialogNames() []string {
	names := append([]string{}, specialDialogs...)
	for n := range c.prog.dialogs {
		if !strings.HasPrefix(n, "__") {
			names = append(names, n)
		}
	}
	return names
}

// specialDialogs are the dialogs the runtime starts by name.
var specialDialogs = []string{"main", "__unknown__", "__returning__", "__root__", "__ask_timeout__", "__timeout__", "__error__", userMessageHook}

// checkEntityKinds refuses an atom in expecting: that looks like a
// misspelt entity kind (:emial). Other atoms are items like any value.
func (c *compiler) checkEntityKinds(src exprSrc) {
	for _, t := range src.toks {
		if t.kind != tAtom || isEntityKind(t.text) {
			continue
		}
		kinds := make([]string, len(entityKinds))
		for i, k := range entityKinds {
			kinds[i] = ":" + k
		}
		if hint := didYouMean(":"+t.text, kinds, ""); hint != "" {
			c.errorf(t.pos, "unknown entity :%s%s", t.text, hint)
		}
	}
}
