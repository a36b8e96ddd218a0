package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"botserver/platforms/web"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

var helpBot = map[string]string{
	"bot.json": `{"title": "Acme Help"}`,
	"main.bot": `
dialog main do
  say "Hi! I'm Acme's assistant."
  topic = ask "How can I help?", quick_replies: ["Track my order", "Returns", "Talk to a human"]
  if topic == "Track my order" do
    order = ask "Sure, what is your order number?"
    say "Order #{order} left our warehouse yesterday and arrives on Thursday."
  else
    say "Someone from the team will write to you here."
  end
end
dialog event: "clicked" do
  say "You clicked #{event.payload.what}."
  emit "seen", [what: event.payload.what]
end
dialog __unknown__ do
  say "You said: #{message}"
end`,
}

// shopPage is a page of another site that embeds the widget of server.
func shopPage(server, bot string) string {
	return fmt.Sprintf(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme Shop</title>
<style>
  body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #1f2937; background: #fafaf9; }
  header { padding: 1rem 2rem; background: #111827; color: #fff; font-weight: 700; font-size: 1.2rem; }
  main { padding: 2rem; display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: 1.5rem; }
  .card { background: #fff; border: 1px solid #e5e7eb; border-radius: .75rem; padding: 1rem; }
  .img { height: 9rem; border-radius: .5rem; background: linear-gradient(135deg, #fde68a, #fca5a5); margin-bottom: .75rem; }
  .card:nth-child(2) .img { background: linear-gradient(135deg, #a7f3d0, #93c5fd); }
  .card:nth-child(3) .img { background: linear-gradient(135deg, #ddd6fe, #fbcfe8); }
  button.buy { font: inherit; border: 0; border-radius: .5rem; padding: .4rem .9rem; background: #111827; color: #fff; }
</style></head>
<body>
<header>Acme Shop</header>
<main>
  <div class="card"><div class="img"></div><b>Sun lamp</b><p>Warm light for grey days. €39</p><button class="buy">Add to cart</button></div>
  <div class="card"><div class="img"></div><b>Sea mug</b><p>Holds 350 ml of tea. €12</p><button class="buy">Add to cart</button></div>
  <div class="card"><div class="img"></div><b>Cloud pillow</b><p>Soft, washable, light. €25</p><button class="buy">Add to cart</button></div>
</main>
<script>window.got = []; addEventListener("botserver:event", (ev) => got.push(ev.detail.name + "=" + JSON.stringify(ev.detail.payload)));</script>
<script src="%s/widget.js" data-bot="%s" data-title="Acme Help" async></script>
</body></html>`, html.EscapeString(server), html.EscapeString(bot))
}

// shop serves shopPage from another origin (another port of 127.0.0.1).
func shop(t *testing.T, server, bot string) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, shopPage(server, bot))
	})
	return newServer(t, mux).URL
}

const widgetJSPath = `document.querySelector("#botserver-widget").shadowRoot`

// chatFrame waits for the widget's iframe and returns its node.
func chatFrame(t *testing.T, tab context.Context) *cdp.Node {
	t.Helper()
	var nodes []*cdp.Node
	run(t, tab,
		waitJS(`(() => { const h = document.querySelector("#botserver-widget"); return !!(h && h.shadowRoot.querySelector("iframe")); })()`),
		chromedp.Nodes(widgetJSPath+`.querySelector("iframe")`, &nodes, chromedp.ByJSPath))
	return nodes[0]
}

// pollFrame polls cond inside the chat's iframe until it is truthy and
// stores its value in res. While the frame navigates (a reload, or an
// error page replacing a refused one) Chromium can drop the frame's
// execution context under a poll; the poll then starts again on the
// frame's new document, until a deadline.
func pollFrame(t *testing.T, tab context.Context, cond string, res any) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second) // a bound for a loaded machine, not a timing assertion
	for {
		frame := chatFrame(t, tab)
		ctx, cancel := context.WithTimeout(tab, 15*time.Second)
		err := chromedp.Run(ctx, chromedp.Poll(cond, res, chromedp.WithPollingInFrame(frame), chromedp.WithPollingInterval(10*time.Millisecond)))
		cancel()
		switch {
		case err == nil:
			return
		case time.Now().After(deadline):
			t.Fatalf("browser: %v", err)
		case strings.Contains(err.Error(), "executionContextId"), strings.Contains(err.Error(), "context"):
			continue // the frame's document changed under the poll
		default:
			t.Fatalf("browser: %v", err)
		}
	}
}

// inFrame polls each condition in turn inside the chat's iframe (see
// pollFrame: a poll whose frame document went away starts again).
func inFrame(t *testing.T, tab context.Context, conds ...string) {
	t.Helper()
	for _, c := range conds {
		pollFrame(t, tab, c, nil)
	}
}

// frameSays waits until the iframe's last bot bubble is want.
func frameSays(want string) string {
	return `(() => { const m = document.querySelectorAll('#log .msg.bot'); return m.length > 0 && m[m.length-1].textContent === ` + jsString(want) + `; })()`
}

// frameTypes sends text through the iframe's composer once it is open.
func frameTypes(text string) string {
	return `(() => {
		if (document.querySelector('#status').dataset.state !== 'open') return false;
		document.querySelector('#text').value = ` + jsString(text) + `;
		document.querySelector('#send').click();
		return true; })()`
}

// frameClicks clicks a quick reply in the iframe once it is there.
func frameClicks(payload string) string {
	return `(() => {
		const b = document.querySelector("button.quick-reply[data-payload=" + JSON.stringify(` + jsString(payload) + `) + "]");
		if (!b || document.querySelector('#status').dataset.state !== 'open') return false;
		b.click();
		return true; })()`
}

func clickLauncher() chromedp.Action {
	return chromedp.Evaluate(widgetJSPath+`.querySelector(".launcher").click(); true`, nil)
}

// TestBrowserWidget: a page of another origin embeds the bot with the
// script tag; the bubble opens the chat, a round trip works, the page's
// window.botserver.emit reaches the bot and the bot's events reach the
// page, and after a reload the panel is open again with the conversation.
func TestBrowserWidget(t *testing.T) {
	tab := browser(t)()
	e := startEnv(t, web.Options{}, nil, map[string]map[string]string{"help": helpBot})
	site := shop(t, e.srv.URL, "help")
	if err := e.web.SetBot("help", web.BotSettings{AllowedOrigins: []string{site}}); err != nil {
		t.Fatal(err)
	}
	run(t, tab, chromedp.Navigate(site), waitJS(`!!document.querySelector("#botserver-widget")`))
	var open bool
	run(t, tab, chromedp.Evaluate(widgetJSPath+`.querySelector("iframe") !== null`, &open))
	if open {
		t.Fatal("the chat is loaded before the bubble is clicked")
	}
	run(t, tab, clickLauncher())
	inFrame(t, tab,
		frameSays("How can I help?"),
		frameClicks("Track my order"),
		frameSays("Sure, what is your order number?"),
		frameTypes("A-1042"),
		frameSays("Order A-1042 left our warehouse yesterday and arrives on Thursday."))
	run(t, tab, chromedp.Evaluate(`window.botserver.emit("clicked", {what: "the sun lamp"}); true`, nil))
	inFrame(t, tab, frameSays("You clicked the sun lamp."))
	run(t, tab, waitJS(`window.got.length === 1`))
	var got []string
	run(t, tab, chromedp.Evaluate(`window.got`, &got))
	sameLines(t, "events on the embedding page", got, `seen={"what":"the sun lamp"}`)

	run(t, tab, chromedp.Reload())
	var lines []string
	pollFrame(t, tab, `(() => {
		const l = [...document.querySelectorAll('#log .msg')].map(m => (m.classList.contains('user') ? 'user: ' : 'bot: ') + m.textContent);
		return l.length >= 7 ? l : false; })()`, &lines)
	sameLines(t, "the chat after a reload", lines, "bot: Hi! I'm Acme's assistant.", "bot: How can I help?", "user: Track my order",
		"bot: Sure, what is your order number?", "user: A-1042", "bot: Order A-1042 left our warehouse yesterday and arrives on Thursday.",
		"bot: You clicked the sun lamp.")
	var expanded string
	run(t, tab, chromedp.Evaluate(widgetJSPath+`.querySelector(".launcher").getAttribute("aria-expanded")`, &expanded))
	if expanded != "true" {
		t.Errorf("after a reload the panel is not open (aria-expanded %q)", expanded)
	}
}

// TestBrowserWidgetRefused: a site the bot does not allow gets no chat in
// its bubble (the page refuses to be framed there).
func TestBrowserWidgetRefused(t *testing.T) {
	tab := browser(t)()
	e := startEnv(t, web.Options{}, nil, map[string]map[string]string{"help": helpBot})
	site := shop(t, e.srv.URL, "help")
	run(t, tab, chromedp.Navigate(site), waitJS(`!!document.querySelector("#botserver-widget")`), clickLauncher())
	var where string
	pollFrame(t, tab, `document.readyState === "complete" && location.href !== "about:blank" && location.href`, &where)
	if where != "chrome-error://chromewebdata/" {
		t.Errorf("the frame shows %q, want Chromium's error page (framing refused)", where)
	}
}
