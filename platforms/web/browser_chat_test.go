package web_test

import (
	"context"
	"strings"
	"testing"

	"botserver/platforms/web"

	"github.com/chromedp/chromedp"
)

// texts returns the texts of the log's bubbles ("bot: ..." or "user: ...")
// and of its quick replies ("[Red|Green]").
func texts(tb testing.TB, tab context.Context) []string {
	tb.Helper()
	var out []string
	run(tb, tab, chromedp.Evaluate(`[...document.querySelectorAll('#log .msg, #log .quick-replies, #log .notice')].map(e =>
		e.classList.contains('quick-replies') ? '[' + [...e.querySelectorAll('button')].map(b => b.textContent).join('|') + ']' :
		e.classList.contains('notice') ? '(' + e.textContent + ')' :
		(e.classList.contains('user') ? 'user: ' : 'bot: ') + e.textContent)`, &out))
	return out
}

func sameLines(tb testing.TB, what string, got []string, want ...string) {
	tb.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		tb.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// menu picks an item of the header's menu.
func menu(item string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.Click("#menu-button", chromedp.ByID),
		chromedp.WaitVisible(item, chromedp.ByQuery),
		chromedp.Click(item, chromedp.ByQuery),
	}
}

// TestBrowserHistoryAfterReload: a reload shows the conversation so far,
// with the pending question's quick replies, which still answer it.
func TestBrowserHistoryAfterReload(t *testing.T) {
	tab := browser(t)()
	e := startEnv(t, web.Options{}, []string{"survey"}, nil)
	run(t, tab,
		chromedp.Navigate(e.srv.URL+"/chat/survey"),
		waitJS(`document.querySelectorAll('button.quick-reply').length === 3`),
		chromedp.Click(`button.quick-reply[data-payload="Green"]`, chromedp.ByQuery),
		botSays("Cats or dogs?"),
		waitJS(`document.querySelectorAll('button.quick-reply').length === 3`),
		chromedp.Reload(),
		botSays("Cats or dogs?"),
		waitJS(`document.querySelectorAll('button.quick-reply').length === 3`),
	)
	var title string
	run(t, tab, chromedp.Text("#bot", &title, chromedp.ByID))
	if title != "Survey" {
		t.Errorf("header %q, want the bot's title", title)
	}
	sameLines(t, "after the reload", texts(t, tab), "bot: Hi there! Three quick questions.",
		"bot: Which colour do you like best?", "user: Green", "bot: Cats or dogs?", "[Cats|Dogs|Neither]")
	var times int
	run(t, tab, chromedp.Evaluate(`document.querySelectorAll('#log .row time').length`, &times))
	if times != 4 {
		t.Errorf("%d times shown, want one per message", times)
	}
	run(t, tab, chromedp.Click(`button.quick-reply[data-payload="Dogs"]`, chromedp.ByQuery),
		botSays("Anything else you want to tell us?"))
}

// TestBrowserRestart: "Start over" in the menu starts a new conversation;
// a reload then shows only the new one.
func TestBrowserRestart(t *testing.T) {
	tab := browser(t)()
	e := startEnv(t, web.Options{}, nil, map[string]map[string]string{"counter": counterBot})
	run(t, tab,
		chromedp.Navigate(e.srv.URL+"/chat/counter"),
		botSays("count with me"),
		typeMessage("one"), botSays("n=1"),
		typeMessage("two"), botSays("n=2"),
		menu("#menu-restart"),
		waitJS(`document.querySelectorAll('#log .msg').length === 1`),
		botSays("count with me"),
	)
	sameLines(t, "after Start over", texts(t, tab), "(New conversation)", "bot: count with me")
	run(t, tab, typeMessage("three"), botSays("n=1"), chromedp.Reload(), botSays("n=1"))
	sameLines(t, "after a reload", texts(t, tab), "bot: count with me", "user: three", "bot: n=1")
}

// TestBrowserNamesInGroup: two people in a room give their names (one
// through the prompt a group shows, one through the menu), and the room's
// relays show them.
func TestBrowserNamesInGroup(t *testing.T) {
	tabs := browser(t)
	a, b := tabs(), tabs()
	e := startEnv(t, web.Options{}, []string{"rooms"}, nil)
	var link string
	run(t, a,
		chromedp.Navigate(e.srv.URL+"/chat/rooms"),
		typeMessage("new room"),
		waitJS(`[...document.querySelectorAll('#log .msg.bot a')].some(a => a.href.includes('?g='))`),
		chromedp.Evaluate(`[...document.querySelectorAll('#log .msg.bot a')].pop().href`, &link),
	)
	run(t, a,
		chromedp.Navigate(link), botSays("room: 1 in the room now"),
		chromedp.WaitVisible("#ask-name", chromedp.ByID),
		menu("#menu-name"),
		chromedp.WaitVisible("#name-input", chromedp.ByID),
		chromedp.SetValue("#name-input", "Ann", chromedp.ByID),
		chromedp.Click("#name-form button[type=submit]", chromedp.ByQuery),
		waitJS(`document.querySelector('#ask-name').hidden && !document.querySelector('#name-dialog').open`),
	)
	run(t, b,
		chromedp.Navigate(link), botSays("room: 2 in the room now"),
		chromedp.WaitVisible("#ask-name", chromedp.ByID),
		chromedp.SetValue("#ask-name-input", "Bea", chromedp.ByID),
		chromedp.Click("#ask-name-form button[type=submit]", chromedp.ByQuery),
		waitJS(`document.querySelector('#ask-name').hidden`),
		typeMessage("hello from Bea"),
	)
	run(t, a, botSays("Bea: hello from Bea"), typeMessage("hi Bea"))
	run(t, b, botSays("Ann: hi Bea"))
	var hint string
	run(t, a, chromedp.Evaluate(`document.querySelector('#menu-name-hint').textContent`, &hint))
	if hint != "Ann" {
		t.Errorf("the menu shows the name %q", hint)
	}
}

// TestBrowserEmit: window.botserver.emit from the page reaches the bot's
// dialog event:, also when called before the connection is open; the
// bot's events reach the page as botserver:event.
func TestBrowserEmit(t *testing.T) {
	tab := browser(t)()
	e := startEnv(t, web.Options{}, nil, map[string]map[string]string{"ev": {"main.bot": `
dialog main do
  say "ready"
end
dialog event: "clicked" do
  say "clicked #{event.payload.x}"
  emit "score", [points: event.payload.x * 2]
end`}})
	run(t, tab,
		chromedp.Navigate(e.srv.URL+"/chat/ev"),
		chromedp.Evaluate(`window.got = []; addEventListener('botserver:event', ev => got.push(ev.detail.name + '=' + JSON.stringify(ev.detail.payload))); window.botserver.emit('clicked', {x: 1}); true`, nil),
		botSays("clicked 1"),
		chromedp.Evaluate(`window.botserver.emit('clicked', {x: 7}); true`, nil),
		botSays("clicked 7"),
		waitJS(`window.got.length === 2`),
	)
	var got []string
	run(t, tab, chromedp.Evaluate(`window.got`, &got))
	sameLines(t, "events on the page", got, `score={"points":2}`, `score={"points":14}`)
}
