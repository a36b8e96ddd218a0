package dsl

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// dateSpecs are the date and time functions. Dates are ISO 8601 strings
// ("2026-12-24", "2026-12-24T18:30:00Z"; without a zone, UTC) or Unix times
// in seconds (like now()).
func dateSpecs() map[string]fnSpec {
	date := kString | kNumber
	return map[string]fnSpec{
		"date_format": {2, 2, []kinds{date, kString}, builtinDateFormat},
		"date_add":    {2, 2, []kinds{date, kString | kNumber}, builtinDateAdd},
		"date_diff":   {2, 3, []kinds{date, date, kString | kAtom}, builtinDateDiff},
		"weekday":     {1, 1, []kinds{date}, builtinWeekday},
		"today":       {0, 0, nil, hostFunc(func(m *Machine, _ []any) (any, error) { return isoDay(m.env.Now), nil })},
	}
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"}

// argAsDate reads a date; dayOnly reports a date without a time.
func argAsDate(v any) (t time.Time, dayOnly bool, err error) {
	switch x := v.(type) {
	case int:
		return time.Unix(int64(x), 0).UTC(), false, nil
	case float64:
		if math.IsNaN(x) || math.Abs(x) > 1e11 {
			return time.Time{}, false, fmt.Errorf("%v is not a time", x)
		}
		return time.Unix(0, int64(x*1e9)).UTC(), false, nil
	case string:
		if t, err := time.Parse("2006-01-02", x); err == nil {
			return t, true, nil
		}
		for _, l := range dateLayouts {
			if t, err := time.Parse(l, x); err == nil {
				return t, false, nil
			}
		}
		return time.Time{}, false, fmt.Errorf("%q is not an ISO 8601 date (want e.g. \"2026-12-24\" or \"2026-12-24T18:30:00Z\")", cutText(x, 40))
	}
	return time.Time{}, false, builtinWantError("a date (an ISO 8601 string or Unix seconds)", v)
}

// formatDate writes t as ISO 8601: "YYYY-MM-DD" for a day, RFC 3339
// otherwise.
func formatDate(t time.Time, dayOnly bool) string {
	if dayOnly {
		return isoDay(t)
	}
	return t.Format(time.RFC3339)
}

// builtinDateAdd is date_add(date, duration): a duration string ("1d",
// "-2h30m") or a number of seconds. A day plus whole days stays a day.
func builtinDateAdd(_ *turnRT, args []any) (any, error) {
	t, dayOnly, err := argAsDate(args[0])
	if err != nil {
		return nil, err
	}
	var d time.Duration
	if s, ok := args[1].(string); ok && strings.HasPrefix(s, "-") {
		d, err = parseDuration(s[1:])
		d = -d
	} else {
		d, err = parseDuration(args[1])
	}
	if err != nil {
		return nil, err
	}
	return formatDate(t.Add(d), dayOnly && d%(24*time.Hour) == 0), nil
}

var diffUnits = map[string]time.Duration{"seconds": time.Second, "minutes": time.Minute, "hours": time.Hour,
	"days": 24 * time.Hour, "weeks": 7 * 24 * time.Hour}

// builtinDateDiff is date_diff(from, to [, unit]): to - from in seconds,
// or in "minutes", "hours", "days" or "weeks".
func builtinDateDiff(_ *turnRT, args []any) (any, error) {
	from, _, err := argAsDate(args[0])
	if err != nil {
		return nil, err
	}
	to, _, err := argAsDate(args[1])
	if err != nil {
		return nil, err
	}
	unit := time.Second
	if len(args) == 3 {
		name := Format(args[2])
		u, ok := diffUnits[name]
		if !ok {
			return nil, fmt.Errorf("unknown unit %q (want seconds, minutes, hours, days or weeks)", name)
		}
		unit = u
	}
	v := float64(to.Sub(from)) / float64(unit)
	if v == math.Trunc(v) {
		return int(v), nil
	}
	return v, nil
}

func builtinWeekday(_ *turnRT, args []any) (any, error) {
	t, _, err := argAsDate(args[0])
	if err != nil {
		return nil, err
	}
	return t.Weekday().String(), nil
}

// builtinDateFormat is date_format(date, format) with strftime's
// directives: %Y %y %m %d %e %H %I %M %S %p %A %a %B %b %j %Z %z %%.
func builtinDateFormat(rt *turnRT, args []any) (any, error) {
	t, _, err := argAsDate(args[0])
	if err != nil {
		return nil, err
	}
	f, err := argAsString(args[1], "a format string like \"%d %B %Y\"")
	if err != nil {
		return nil, err
	}
	if err := rt.budget().take(satMul(len(f), 10)); err != nil {
		return nil, err
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		s, ok := strftime(t, f[i])
		if !ok {
			return nil, fmt.Errorf("unknown directive %%%c", f[i])
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func strftime(t time.Time, c byte) (string, bool) {
	two := func(n int) string { return fmt.Sprintf("%02d", n) }
	switch c {
	case 'Y':
		return strconv.Itoa(t.Year()), true
	case 'y':
		return two(t.Year() % 100), true
	case 'm':
		return two(int(t.Month())), true
	case 'd':
		return two(t.Day()), true
	case 'e':
		return strconv.Itoa(t.Day()), true
	case 'H':
		return two(t.Hour()), true
	case 'I':
		return two((t.Hour()+11)%12 + 1), true
	case 'M':
		return two(t.Minute()), true
	case 'S':
		return two(t.Second()), true
	case 'p':
		return t.Format("PM"), true
	case 'A':
		return t.Weekday().String(), true
	case 'a':
		return t.Weekday().String()[:3], true
	case 'B':
		return t.Month().String(), true
	case 'b':
		return t.Month().String()[:3], true
	case 'j':
		return fmt.Sprintf("%03d", t.YearDay()), true
	case 'Z':
		return t.Format("MST"), true
	case 'z':
		return t.Format("-0700"), true
	case '%':
		return "%", true
	}
	return "", false
}
