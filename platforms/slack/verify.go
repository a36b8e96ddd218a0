package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Slack's request signing headers.
const (
	headerSignature = "X-Slack-Signature"
	headerTimestamp = "X-Slack-Request-Timestamp"
)

// routeBot returns the bot of the request's {bot}, or writes 404 (the bot
// does not run, or has no Slack configuration) and returns nil.
func (p *Platform) routeBot(w http.ResponseWriter, r *http.Request) *bot {
	id := r.PathValue("bot")
	b := p.bot(id)
	if b == nil || !p.opts.Gateway.HasBot(id) {
		http.Error(w, "no such bot", http.StatusNotFound)
		return nil
	}
	return b
}

// signedRequest returns the bot of a signed request and its body, or
// answers the request (see routeBot and readSigned) and returns nil.
func (p *Platform) signedRequest(w http.ResponseWriter, r *http.Request) (*bot, []byte) {
	b := p.routeBot(w, r)
	if b == nil {
		return nil, nil
	}
	body, ok := p.readSigned(w, r, b)
	if !ok {
		return nil, nil
	}
	return b, body
}

// readSigned returns the body of a request signed with the bot's signing
// secret. Otherwise it answers 401 (no detail), 413 or 503 and returns
// false; nothing of the request is processed.
func (p *Platform) readSigned(w http.ResponseWriter, r *http.Request, b *bot) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "cannot read the request", http.StatusBadRequest)
		}
		return nil, false
	}
	if !verify(b.cfg.SigningSecret, r.Header, body, p.opts.Now()) {
		p.stats.badSignatures.Add(1)
		b.log.Warn("refused a request with a missing, wrong or stale signature", "path", r.URL.Path)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return nil, false
	}
	if p.isClosing() {
		// Slack retries later, and the retry reaches the restarted server.
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return nil, false
	}
	return body, true
}

// verify checks Slack's v0 signature: "v0=" + hex(HMAC-SHA256(secret,
// "v0:" + timestamp + ":" + body)), with the timestamp within five minutes
// of now. (slack.NewSecretsVerifier does the same against the wall clock;
// this one takes the platform's clock, so tests can age a request.)
func verify(secret string, h http.Header, body []byte, now time.Time) bool {
	ts, sig := h.Get(headerTimestamp), h.Get(headerSignature)
	if secret == "" || ts == "" || sig == "" {
		return false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if skew := now.Sub(time.Unix(sec, 0)); skew > maxSkew || skew < -maxSkew {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(sign(secret, ts, body)))
}

// sign returns the signature header value of body sent at ts.
func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}
