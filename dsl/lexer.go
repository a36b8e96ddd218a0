package dsl

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tokKind classifies a token.
type tokKind uint8

const (
	tEOF     tokKind = iota
	tNewline         // end of a line (statements end here)
	tIdent           // a name or keyword: keywords are told apart by the parser
	tConst           // @name
	tAtom            // :name
	tNumber          // 3, 1.5, 1e3
	tString          // "...", possibly with #{...} parts
	tPunct           // operators and brackets
)

func (k tokKind) String() string {
	return [...]string{"end of file", "end of line", "name", "constant", "atom", "number", "string", "symbol"}[k]
}

// token is one lexical unit with its position in the file.
type token struct {
	kind  tokKind
	text  string // source text (names: the name; strings: the raw literal)
	pos   Pos
	space bool      // white space (or a line start) comes right before it
	parts []strPart // strings only: literal pieces and interpolations
}

// strPart is a literal piece of a string or an interpolated expression.
type strPart struct {
	lit    string  // the unescaped literal text when toks is nil
	toks   []token // the tokens of #{...}
	interp bool
	pos    Pos
}

// describe renders a token for error messages: `"do"`, `end of line`.
func (t token) describe() string {
	switch t.kind {
	case tEOF, tNewline:
		return t.kind.String()
	case tString:
		return "string " + t.text
	}
	return fmt.Sprintf("%q", t.text)
}

func (t token) is(kind tokKind, text string) bool { return t.kind == kind && t.text == text }

// lexer turns source text into tokens. Errors stop it: the first one is kept.
type lexer struct {
	src  string
	file string
	off  int
	line int
	col  int // 1-based column of off, counted in runes
	toks []token
	err  *Error
	// depth counts open brackets so that interpolations know their end.
	space bool
}

// lex splits src into tokens, ending with tEOF.
func lex(file, src string) ([]token, *Error) {
	lx := &lexer{src: src, file: file, line: 1, col: 1, space: true}
	lx.toks = make([]token, 0, len(src)/4+8)
	for lx.err == nil {
		t, ok := lx.next()
		if !ok {
			break
		}
		lx.toks = append(lx.toks, t)
		if t.kind == tEOF {
			break
		}
	}
	return lx.toks, lx.err
}

func (lx *lexer) pos() Pos { return Pos{File: lx.file, Line: lx.line, Col: lx.col, Off: lx.off} }

func (lx *lexer) fail(p Pos, format string, args ...any) {
	if lx.err == nil {
		lx.err = &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
	}
}

func (lx *lexer) peekByte(ahead int) byte {
	if lx.off+ahead < len(lx.src) {
		return lx.src[lx.off+ahead]
	}
	return 0
}

// advance moves past n bytes on the current line.
func (lx *lexer) advance(n int) {
	lx.col += utf8.RuneCountInString(lx.src[lx.off : lx.off+n])
	lx.off += n
}

// next returns the next token; ok is false after an error.
func (lx *lexer) next() (token, bool) {
	lx.skipBlanks()
	p := lx.pos()
	space := lx.space
	lx.space = false
	if lx.off >= len(lx.src) {
		return token{kind: tEOF, pos: p, space: true}, true
	}
	c := lx.src[lx.off]
	var t token
	switch {
	case c == '\n':
		lx.off++
		lx.line++
		lx.col = 1
		lx.space = true
		return token{kind: tNewline, text: "\n", pos: p, space: space}, true
	case isIdentStart(c):
		t = token{kind: tIdent, text: lx.word()}
	case c == '@' && isIdentStart(lx.peekByte(1)):
		lx.advance(1)
		t = token{kind: tConst, text: lx.word()}
	case c == ':' && isIdentStart(lx.peekByte(1)) && lx.atomAllowed(space):
		lx.advance(1)
		t = token{kind: tAtom, text: lx.word()}
	case isDigit(c):
		t = token{kind: tNumber, text: lx.number()}
	case c == '"':
		t = lx.str()
	default:
		op := lx.punct()
		if op == "" {
			r, _ := utf8.DecodeRuneInString(lx.src[lx.off:])
			lx.fail(p, "unexpected character %q", r)
			return token{}, false
		}
		t = token{kind: tPunct, text: op}
	}
	t.pos, t.space = p, space
	return t, lx.err == nil
}

// atomAllowed tells whether ':' starts an atom here: not when it follows an
// operand directly (`a ? b:c`) — that colon belongs to the expression.
func (lx *lexer) atomAllowed(space bool) bool {
	if space || len(lx.toks) == 0 {
		return true
	}
	prev := lx.toks[len(lx.toks)-1]
	switch prev.kind {
	case tIdent, tNumber, tString, tAtom, tConst:
		return false
	case tPunct:
		return prev.text != ")" && prev.text != "]" && prev.text != "}"
	}
	return true
}

func (lx *lexer) skipBlanks() {
	for lx.off < len(lx.src) {
		switch c := lx.src[lx.off]; {
		case c == ' ' || c == '\t' || c == '\r':
			lx.advance(1)
			lx.space = true
		case c == '#':
			end := strings.IndexByte(lx.src[lx.off:], '\n')
			if end < 0 {
				end = len(lx.src) - lx.off
			}
			lx.advance(end)
			lx.space = true
		case c == '\\' && lx.peekByte(1) == '\n':
			// an explicit line continuation
			lx.off += 2
			lx.line++
			lx.col = 1
			lx.space = true
		default:
			return
		}
	}
}

func (lx *lexer) word() string {
	start := lx.off
	for lx.off < len(lx.src) && isIdentPart(lx.src[lx.off]) {
		lx.off++
	}
	lx.col += lx.off - start
	return lx.src[start:lx.off]
}

func (lx *lexer) number() string {
	start := lx.off
	digits := func() {
		for lx.off < len(lx.src) && (isDigit(lx.src[lx.off]) || lx.src[lx.off] == '_') {
			lx.off++
		}
	}
	digits()
	if lx.peekByte(0) == '.' && isDigit(lx.peekByte(1)) {
		lx.off++
		digits()
	}
	if c := lx.peekByte(0); c == 'e' || c == 'E' {
		n := 1
		if s := lx.peekByte(1); s == '+' || s == '-' {
			n = 2
		}
		if isDigit(lx.peekByte(n)) {
			lx.off += n
			digits()
		}
	}
	lx.col += lx.off - start
	return lx.src[start:lx.off]
}

// operators, longest first.
var operators = []string{
	"->", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "..", "**",
	"+", "-", "*", "/", "%", "<", ">", "=", "!", "?", ":", ".", ",",
	"(", ")", "[", "]", "{", "}", "|", "^",
}

func (lx *lexer) punct() string {
	rest := lx.src[lx.off:]
	for _, op := range operators {
		if strings.HasPrefix(rest, op) {
			lx.advance(len(op))
			return op
		}
	}
	return ""
}

// str lexes a double-quoted string with escapes and #{...} interpolation.
func (lx *lexer) str() token {
	start, open := lx.off, lx.pos()
	lx.advance(1)
	var parts []strPart
	var lit strings.Builder
	litPos := lx.pos()
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, strPart{lit: lit.String(), pos: litPos})
			lit.Reset()
		}
	}
	for {
		if lx.off >= len(lx.src) || lx.src[lx.off] == '\n' {
			lx.fail(open, "unterminated string")
			return token{}
		}
		c := lx.src[lx.off]
		switch {
		case c == '"':
			lx.advance(1)
			flush()
			return token{kind: tString, text: lx.src[start:lx.off], parts: parts}
		case c == '\\':
			if !lx.escape(&lit) {
				return token{}
			}
		case c == '#' && lx.peekByte(1) == '{':
			flush()
			p := lx.pos()
			lx.advance(2)
			toks := lx.interpolation(p)
			if lx.err != nil {
				return token{}
			}
			parts = append(parts, strPart{toks: toks, interp: true, pos: p})
			litPos = lx.pos()
		default:
			_, n := utf8.DecodeRuneInString(lx.src[lx.off:])
			lit.WriteString(lx.src[lx.off : lx.off+n])
			lx.advance(n)
		}
	}
}

// escapes maps the character after a backslash to what it stands for.
var escapes = map[byte]string{'n': "\n", 't': "\t", 'r': "\r", '"': "\"", '\\': "\\", '#': "#", '0': "\x00"}

func (lx *lexer) escape(b *strings.Builder) bool {
	p := lx.pos()
	if s, ok := escapes[lx.peekByte(1)]; ok {
		b.WriteString(s)
		lx.advance(2)
		return true
	}
	lx.fail(p, "unknown escape sequence in string (use \\n, \\t, \\r, \\\", \\\\ or \\#)")
	return false
}

// interpolation lexes the tokens of #{...} up to its closing brace.
func (lx *lexer) interpolation(open Pos) []token {
	if rest := lx.src[lx.off:]; !strings.Contains(strings.SplitN(rest, "\n", 2)[0], "}") {
		lx.fail(open, "this #{ is never closed: write } before the end of the string")
		return nil
	}
	outer := lx.toks
	lx.toks = nil
	depth := 0
	for lx.err == nil {
		t, ok := lx.next()
		if !ok {
			break
		}
		switch {
		case t.kind == tEOF || t.kind == tNewline:
			lx.fail(open, "unterminated #{ in string")
		case t.is(tPunct, "{"):
			depth++
		case t.is(tPunct, "}") && depth == 0:
			inner := lx.toks
			lx.toks = outer
			if len(inner) == 0 {
				lx.fail(open, "empty #{} in string")
			}
			return inner
		case t.is(tPunct, "}"):
			depth--
		}
		lx.toks = append(lx.toks, t)
	}
	lx.toks = outer
	return nil
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
