package dsl

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// entityKinds are the kinds of value expecting: and trigger placeholders
// find in a message.
var entityKinds = []string{"email", "url", "number", "integer", "date"}

func isEntityKind(s string) bool {
	for _, k := range entityKinds {
		if k == s {
			return true
		}
	}
	return false
}

// entity is a value found in a message: its kind, its value (a string, a
// number, or a date as "YYYY-MM-DD") and the text it was found in.
type entity struct {
	kind  string
	value any
	text  string
}

// view is the value of `entity`: [kind: "email", value: ..., text: ...].
func (e entity) view() map[string]any {
	return map[string]any{"kind": e.kind, "value": e.value, "text": e.text}
}

const monthNames = `jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?`

// entitySources are the regular expressions of the entity kinds, as used
// inside trigger patterns.
var entitySources = map[string]string{
	"email":   `[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}`,
	"url":     `(?:https?://|www\.)[^\s<>"']*[^\s<>"'.,;:!?)]`,
	"number":  `-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:[.,]\d+)?`,
	"integer": `-?\d+`,
	"date": `\d{4}-\d{1,2}-\d{1,2}|\d{1,2}(?:st|nd|rd|th)?\s+(?:` + monthNames + `)\.?(?:,?\s+\d{4})?|(?:` + monthNames +
		`)\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?|today|tomorrow|yesterday|monday|tuesday|wednesday|thursday|friday|saturday|sunday`,
}

// entityRegexps find each kind anywhere in a message, on word boundaries.
var entityRegexps = func() map[string]*regexp.Regexp {
	out := map[string]*regexp.Regexp{}
	for k, src := range entitySources {
		out[k] = regexp.MustCompile(`(?i)(?:^|[^\w@.\-])(` + src + `)(?:$|[^\w@.,]|[.,](?:\D|$))`)
	}
	return out
}()

// findEntity finds the first value of kind in text; dates are read
// relative to now.
func findEntity(kind, text string, now time.Time) (entity, bool) {
	re := entityRegexps[kind]
	if re == nil {
		return entity{}, false
	}
	for _, m := range re.FindAllStringSubmatchIndex(text, 8) {
		found := text[m[2]:m[3]]
		if v, ok := entityValue(kind, found, now); ok {
			return entity{kind: kind, value: v, text: found}, true
		}
	}
	return entity{}, false
}

// entityValue reads the value of a kind's text, or ok=false when it is not
// one (a date like 31 February).
func entityValue(kind, text string, now time.Time) (any, bool) {
	switch kind {
	case "email", "url":
		return text, true
	case "integer":
		n, err := strconv.Atoi(text)
		return n, err == nil
	case "number":
		return parseNumber(text)
	case "date":
		return parseDate(strings.ToLower(text), now)
	}
	return nil, false
}

// parseNumber reads 12, -3, 1.5, 1,5 (a decimal comma) and 1,000,000.
func parseNumber(s string) (any, bool) {
	if thousandsNumber.MatchString(s) {
		s = strings.ReplaceAll(s, ",", "")
	} else {
		s = strings.Replace(s, ",", ".", 1)
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, false
	}
	if f == float64(int(f)) && !strings.Contains(s, ".") {
		return int(f), true
	}
	return f, true
}

var (
	thousandsNumber = regexp.MustCompile(`^-?\d{1,3}(,\d{3})+(\.\d+)?$`)
	isoDate         = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	dayMonthDate    = regexp.MustCompile(`^(\d{1,2})(?:st|nd|rd|th)?\s+(` + monthNames + `)\.?(?:,?\s+(\d{4}))?$`)
	monthDayDate    = regexp.MustCompile(`^(` + monthNames + `)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?$`)
	weekdays        = map[string]time.Weekday{"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
		"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday}
)

// parseDate reads a lower-case date: ISO (2026-12-24), 24 December 2026,
// December 24, 2026, a day and month without a year (the next such date,
// today included), today, tomorrow, yesterday, or a weekday name (the next
// such day after today). The result is "YYYY-MM-DD".
func parseDate(s string, now time.Time) (string, bool) {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	switch s {
	case "today":
		return isoDay(today), true
	case "tomorrow":
		return isoDay(today.AddDate(0, 0, 1)), true
	case "yesterday":
		return isoDay(today.AddDate(0, 0, -1)), true
	}
	if wd, ok := weekdays[s]; ok {
		ahead := (int(wd) - int(today.Weekday()) + 7) % 7
		if ahead == 0 {
			ahead = 7
		}
		return isoDay(today.AddDate(0, 0, ahead)), true
	}
	if m := isoDate.FindStringSubmatch(s); m != nil {
		return makeDate(atoi(m[1]), atoi(m[2]), atoi(m[3]), today)
	}
	if m := dayMonthDate.FindStringSubmatch(s); m != nil {
		return dateMaybeYear(m[3], monthNumber(m[2]), atoi(m[1]), today)
	}
	if m := monthDayDate.FindStringSubmatch(s); m != nil {
		return dateMaybeYear(m[3], monthNumber(m[1]), atoi(m[2]), today)
	}
	return "", false
}

func dateMaybeYear(year string, month, day int, today time.Time) (string, bool) {
	if year != "" {
		return makeDate(atoi(year), month, day, today)
	}
	for y := today.Year(); y <= today.Year()+4; y++ { // 29 February waits for a leap year
		if d, ok := makeDate(y, month, day, today); ok && d >= isoDay(today) {
			return d, true
		}
	}
	return "", false
}

// makeDate checks that the day exists.
func makeDate(y, m, d int, today time.Time) (string, bool) {
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, today.Location())
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return "", false
	}
	return isoDay(t), true
}

func isoDay(t time.Time) string { return t.Format("2006-01-02") }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func monthNumber(name string) int {
	months := []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	for i, m := range months {
		if strings.HasPrefix(name, m) {
			return i + 1
		}
	}
	return 0
}

// entityPlaceholder matches [email], [url], [number], [integer] and [date]
// in a trigger pattern.
var entityPlaceholder = regexp.MustCompile(`\[(email|url|number|integer|date)\]`)
