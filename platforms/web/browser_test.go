package web_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"botserver/platforms/web"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromium returns the path of a Chromium binary, or skips the test. In CI
// (CI set), where .ci/run installs Debian's chromium, a missing browser is
// a failure instead.
func chromium(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("BOTSERVER_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		tb.Fatal("no Chromium in CI: .ci/run must install it (apt-get install -y chromium)")
	}
	tb.Skip("no Chromium installed (apt-get install -y chromium, or set BOTSERVER_CHROME); browser tests skipped")
	return ""
}

// browser returns a function that opens a tab, each in a headless
// Chromium of its own (its own profile and localStorage), as a second
// person on another device would have.
func browser(tb testing.TB) func() context.Context {
	tb.Helper()
	path := chromium(tb)
	return func() context.Context {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.Flag("disable-dev-shm-usage", true))
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		tab, cancelTab := chromedp.NewContext(alloc)
		tb.Cleanup(func() { cancelTab(); cancelAlloc() })
		if err := chromedp.Run(tab); err != nil { // starts the browser
			tb.Fatalf("cannot start Chromium: %v", err)
		}
		return tab
	}
}

// run runs actions in tab with a deadline.
func run(tb testing.TB, tab context.Context, actions ...chromedp.Action) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tab, 60*time.Second) // a bound for a loaded machine, not a timing assertion
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		tb.Fatalf("browser: %v", err)
	}
}

// botSays waits until the last bot bubble's text is want.
func botSays(want string) chromedp.Action {
	return waitJS(`(() => { const m = document.querySelectorAll('#log .msg.bot'); return m.length > 0 && m[m.length-1].textContent === ` + jsString(want) + `; })()`)
}

// waitJS polls a JavaScript condition until it is true.
func waitJS(cond string) chromedp.Action {
	return chromedp.Poll(cond, nil, chromedp.WithPollingInterval(10*time.Millisecond))
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

// typeMessage sends text through the composer.
func typeMessage(text string) chromedp.Action {
	return chromedp.Tasks{
		waitJS(`document.querySelector('#status').dataset.state === 'open' && !document.querySelector('#send').disabled`),
		chromedp.SetValue("#text", text, chromedp.ByID),
		chromedp.Click("#send", chromedp.ByID),
	}
}

func TestBrowserSurveyQuickReply(t *testing.T) {
	tab := browser(t)()
	e := startEnv(t, web.Options{}, []string{"survey"}, nil)
	run(t, tab,
		chromedp.Navigate(e.srv.URL+"/chat/survey"),
		botSays("Which colour do you like best?"),
		waitJS(`document.querySelectorAll('button.quick-reply').length === 3`),
		chromedp.Click(`button.quick-reply[data-payload="Green"]`, chromedp.ByQuery),
		botSays("Cats or dogs?"),
	)
	var users []string
	run(t, tab, chromedp.Evaluate(`[...document.querySelectorAll('#log .msg.user')].map(m => m.textContent)`, &users))
	if strings.Join(users, "|") != "Green" {
		t.Errorf("user bubbles %q, want the clicked quick reply", users)
	}
	var greeting string
	run(t, tab, chromedp.Text("#log .msg.bot", &greeting, chromedp.ByQuery))
	if greeting != "Hi there! Three quick questions." {
		t.Errorf("first bubble %q", greeting)
	}
	run(t, tab, typeMessage("Dogs"), botSays("Anything else you want to tell us?"),
		typeMessage("Nice"), botSays("Thanks! You like green and dogs."))
}

func TestBrowserRoomJoinLink(t *testing.T) {
	tabs := browser(t)
	a, b := tabs(), tabs()
	e := startEnv(t, web.Options{}, []string{"rooms"}, nil)
	var link string
	run(t, a,
		chromedp.Navigate(e.srv.URL+"/chat/rooms"),
		botSays("Say 'open NAME' for a room, 'new room' for a secret one, or 'room with NAME'."),
		typeMessage("new room"),
		waitJS(`[...document.querySelectorAll('#log .msg.bot a')].some(a => a.href.includes('?g='))`),
		chromedp.Evaluate(`[...document.querySelectorAll('#log .msg.bot a')].pop().href`, &link),
	)
	if !strings.HasPrefix(link, e.srv.URL+"/chat/rooms?g=") {
		t.Fatalf("join link %q", link)
	}
	group := link[strings.Index(link, "g=")+2:]
	group = strings.ReplaceAll(group, "%7E", "~")
	// A follows the link too (same identity, now in the room); B opens it
	// in another browser context.
	run(t, a, chromedp.Navigate(link), botSays("room: 1 in the room now"))
	run(t, b, chromedp.Navigate(link), botSays("room: 2 in the room now"))
	var label string
	run(t, b, chromedp.Text("#group", &label, chromedp.ByID))
	if !strings.Contains(label, group) {
		t.Errorf("B's header shows %q, want the group %s", label, group)
	}
	run(t, b, typeMessage("hello from B"))
	run(t, a, botSays("someone: hello from B"), typeMessage("hi B, this is A"))
	run(t, b, botSays("someone: hi B, this is A"))
	var ua, ub string
	run(t, a, chromedp.Evaluate(`document.body.dataset.user`, &ua))
	run(t, b, chromedp.Evaluate(`document.body.dataset.user`, &ub))
	if ua == "" || ua == ub {
		t.Errorf("users %q and %q: want two identities", ua, ub)
	}
}

func TestBrowserRendersBotTextAsText(t *testing.T) {
	tab := browser(t)()
	const evil = `<img src=x onerror=alert(1)> <script>alert(2)</script> & "quotes"`
	e := startEnv(t, web.Options{}, nil, map[string]map[string]string{"xss": {"main.bot": `
dialog main do
  say "` + strings.ReplaceAll(evil, `"`, `\"`) + `"
  say "see https://example.com/a?b=1 and <b>bold</b>"
end`}})
	dialogs := make(chan string, 4)
	chromedp.ListenTarget(tab, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialogs <- d.Message
			go chromedp.Run(tab, page.HandleJavaScriptDialog(true))
		}
	})
	run(t, tab, chromedp.Navigate(e.srv.URL+"/chat/xss"), botSays("see https://example.com/a?b=1 and <b>bold</b>"))
	var texts []string
	var images, bolds int
	run(t, tab,
		chromedp.Evaluate(`[...document.querySelectorAll('#log .msg.bot')].map(m => m.textContent)`, &texts),
		chromedp.Evaluate(`document.querySelectorAll('#log img, #log script').length`, &images),
		chromedp.Evaluate(`document.querySelectorAll('#log b').length`, &bolds),
	)
	if len(texts) != 2 || texts[0] != evil {
		t.Errorf("bubbles %q, want the markup shown as text", texts)
	}
	if images != 0 || bolds != 0 {
		t.Errorf("%d img/script and %d b elements in the log: bot text was rendered as HTML", images, bolds)
	}
	var href string
	run(t, tab, chromedp.Evaluate(`document.querySelector('#log .msg.bot a').href`, &href))
	if href != "https://example.com/a?b=1" {
		t.Errorf("link href %q", href)
	}
	select {
	case msg := <-dialogs:
		t.Errorf("a script ran: alert(%s)", msg)
	default:
	}
}

// counterBot counts every message the user sends after the greeting.
var counterBot = map[string]string{"main.bot": `
dialog main do
  n = 0
  say "count with me"
end
dialog __unknown__ do
  n = n + 1
  say "n=#{n}"
end`}

func TestBrowserReloadKeepsConversation(t *testing.T) {
	tab := browser(t)()
	e := startEnv(t, web.Options{}, nil, map[string]map[string]string{"counter": counterBot})
	var before, after string
	run(t, tab,
		chromedp.Navigate(e.srv.URL+"/chat/counter"),
		botSays("count with me"),
		typeMessage("one"), botSays("n=1"),
		chromedp.Evaluate(`document.body.dataset.user`, &before),
		chromedp.Reload(),
		waitJS(`document.body.dataset.user !== undefined && document.body.dataset.user !== ''`),
		chromedp.Evaluate(`document.body.dataset.user`, &after),
		typeMessage("two"), botSays("n=2"),
	)
	if before == "" || before != after {
		t.Errorf("identity %q before the reload, %q after", before, after)
	}
	// The server goes away and comes back on the same address: the page
	// reconnects by itself, as the same user.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addr := e.srv.Listener.Addr().String()
	e.web.Shutdown(ctx)
	e.srv.Close()
	run(t, tab, waitJS(`document.querySelector('#status').dataset.state !== 'open'`))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	again := web.New(web.Options{Gateway: e.rt, Secret: secret})
	e.rt.RegisterPlatform(web.Name, again)
	mux := http.NewServeMux()
	again.Register(mux)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	defer srv.Close()
	defer again.Shutdown(ctx)
	run(t, tab, typeMessage("three"), botSays("n=3"))
}
