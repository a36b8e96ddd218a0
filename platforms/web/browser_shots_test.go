package web_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"botserver/platforms/web"

	"github.com/chromedp/chromedp"
)

// Screen sizes of the screenshots: a laptop, and a phone (CSS pixels, at
// the phone's pixel ratio).
var (
	desktop = chromedp.EmulateViewport(1280, 800)
	phone   = chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)
)

// TestScreenshots takes the screenshots in docs/screenshots when
// BOTSERVER_SCREENSHOTS names a folder (docs/screenshots/update.sh sets it):
// the chat page and the widget, at desktop and phone sizes.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("BOTSERVER_SCREENSHOTS")
	if dir == "" {
		t.Skip("BOTSERVER_SCREENSHOTS is not set (docs/screenshots/update.sh sets it)")
	}
	tabs := browser(t)
	e := startEnv(t, web.Options{}, []string{"survey", "rooms"}, map[string]map[string]string{"help": helpBot})
	site := shop(t, e.srv.URL, "help")
	if err := e.web.SetBot("help", web.BotSettings{AllowedOrigins: []string{site}}); err != nil {
		t.Fatal(err)
	}
	shot := func(tab context.Context, name string) {
		t.Helper()
		var png []byte
		run(t, tab, waitJS(`document.fonts.status === "loaded"`), chromedp.CaptureScreenshot(&png))
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, size := range []struct {
		name string
		vp   chromedp.Action
	}{{"desktop", desktop}, {"phone", phone}} {
		tab := tabs()
		run(t, tab, size.vp,
			chromedp.Navigate(e.srv.URL+"/chat/survey?name=Ann"),
			chromedp.Click(`button.quick-reply[data-payload="Green"]`, chromedp.ByQuery),
			botSays("Cats or dogs?"),
			waitJS(`document.querySelectorAll('button.quick-reply').length === 3`))
		shot(tab, "chat-"+size.name+".png")

		tab = tabs()
		run(t, tab, size.vp, chromedp.Navigate(site), waitJS(`!!document.querySelector("#botserver-widget")`), clickLauncher())
		inFrame(t, tab,
			frameClicks("Track my order"),
			frameSays("Sure, what is your order number?"),
			frameTypes("A-1042"),
			frameSays("Order A-1042 left our warehouse yesterday and arrives on Thursday."))
		shot(tab, "widget-"+size.name+".png")
	}
	groupShot(t, tabs, e, shot)
}

// groupShot takes a room where two people talk under their names.
func groupShot(t *testing.T, tabs func() context.Context, e *env, shot func(context.Context, string)) {
	a, b := tabs(), tabs()
	var link string
	run(t, a, phone,
		chromedp.Navigate(e.srv.URL+"/chat/rooms?name=Ann"),
		typeMessage("new room"),
		waitJS(`[...document.querySelectorAll('#log .msg.bot a')].some(a => a.href.includes('?g='))`),
		chromedp.Evaluate(`[...document.querySelectorAll('#log .msg.bot a')].pop().href`, &link))
	run(t, a, chromedp.Navigate(link), botSays("room: 1 in the room now"))
	run(t, b, phone, chromedp.Navigate(link+"&name=Bea"), botSays("room: 2 in the room now"))
	run(t, a, botSays("room: 2 in the room now"), typeMessage("Hi Bea! Lunch at noon?"))
	run(t, b, botSays("Ann: Hi Bea! Lunch at noon?"), typeMessage("Yes, see you at the café"))
	run(t, a, botSays("Bea: Yes, see you at the café"))
	shot(a, "chat-group-phone.png")
}
