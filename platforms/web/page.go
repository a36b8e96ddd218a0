package web

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html"
	"html/template"
	"net/http"
	"regexp"
	"strings"
)

//go:embed static/chat.html
var chatHTML []byte

//go:embed static/widget.js
var widgetJS []byte

//go:embed static/error.html
var errorHTML string

// titleMark is where the page's HTML gets the bot's name (escaped).
const titleMark = "__TITLE__"

// page is the chat page with its Content-Security-Policy: the inline
// script is allowed by its hash, so nothing else can run on the page.
type page struct {
	parts [][]byte // the HTML split at titleMark
	csp   string   // without frame-ancestors, which depends on the bot
	err   *template.Template
}

var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

func newPage() page {
	var hashes []string
	for _, m := range inlineScript.FindAllSubmatch(chatHTML, -1) {
		sum := sha256.Sum256(m[1])
		hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	csp := "default-src 'none'; script-src " + strings.Join(hashes, " ") +
		"; style-src 'unsafe-inline'; img-src http: https: data:; connect-src 'self'; base-uri 'none'; form-action 'none'"
	return page{parts: bytes.Split(bytes.Clone(chatHTML), []byte(titleMark)), csp: csp,
		err: template.Must(template.New("error").Parse(errorHTML))}
}

// securityHeaders are set on every page.
func securityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // group links are secrets
	h.Set("Cache-Control", "no-cache")
}

// servePage is GET /chat/{bot}: the page, with the bot's name in its
// header; the bot's allowed origins may frame it (the widget does).
func (p *Platform) servePage(w http.ResponseWriter, r *http.Request) {
	bot := r.PathValue("bot")
	if !p.opts.Gateway.HasBot(bot) {
		p.errorPage(w, http.StatusNotFound, "This chat does not exist",
			"There is no bot called “"+bot+"” here. Check the link you followed.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", p.page.csp+"; frame-ancestors "+p.frameAncestors(bot))
	securityHeaders(h)
	title := []byte(html.EscapeString(p.title(bot)))
	w.Write(bytes.Join(p.page.parts, title))
}

// serveNoChat answers the paths under /chat/ that name no bot.
func (p *Platform) serveNoChat(w http.ResponseWriter, r *http.Request) {
	p.errorPage(w, http.StatusNotFound, "This chat does not exist",
		"A chat link looks like /chat/BOT. Check the link you followed.")
}

// errorPage writes a styled HTML page about an error.
func (p *Platform) errorPage(w http.ResponseWriter, status int, title, message string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors *")
	securityHeaders(h)
	w.WriteHeader(status)
	p.page.err.Execute(w, struct {
		Status         int
		Title, Message string
	}{status, title, message})
}

// serveWidget is GET /widget.js, the embeddable chat bubble.
func (p *Platform) serveWidget(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin") // pages of any site load it
	h.Set("Cache-Control", "public, max-age=300")
	w.Write(p.widget)
}
