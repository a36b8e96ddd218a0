package web

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
)

//go:embed static/chat.html
var chatHTML []byte

// page is the chat page with its Content-Security-Policy: the inline
// script is allowed by its hash, so nothing else can run on the page.
type page struct {
	html []byte
	csp  string
}

var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

func newPage() page {
	var hashes []string
	for _, m := range inlineScript.FindAllSubmatch(chatHTML, -1) {
		sum := sha256.Sum256(m[1])
		hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	csp := "default-src 'none'; script-src " + strings.Join(hashes, " ") +
		"; style-src 'unsafe-inline'; img-src http: https: data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	return page{html: bytes.Clone(chatHTML), csp: csp}
}

// servePage is GET /chat/{bot}.
func (p *Platform) servePage(w http.ResponseWriter, r *http.Request) {
	if !p.opts.Gateway.HasBot(r.PathValue("bot")) {
		http.Error(w, "unknown bot", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", p.page.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // group links are secrets
	h.Set("Cache-Control", "no-cache")
	w.Write(p.page.html)
}
