package dsl

import (
	"fmt"
	"testing"
)

// TestCompileErrors checks the exact rendered message of every class of
// compile error.
func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		role Role
		src  string
		want string
	}{
		{"syntax: missing do", RoleSession, "dialog main\n  say 1\nend\n",
			"main.bot:1:12: expected \"do\" to open the dialog, found end of line\n   1 | dialog main\n     |            ^"},
		{"syntax: missing end", RoleSession, "dialog main do\n  say 1\n",
			"main.bot:3:1: expected \"end\", found end of file\n   3 | \n     | ^"},
		{"syntax: bad statement", RoleSession, "dialog main do\n  hello world\nend\n",
			"main.bot:2:3: expected a statement, found \"hello\"\n   2 |   hello world\n     |   ^"},
		{"syntax: top level", RoleSession, "say \"hi\"\n",
			"main.bot:1:1: expected dialog, task or @constant, found \"say\"\n   1 | say \"hi\"\n     | ^"},
		{"syntax: unterminated string", RoleSession, "dialog main do\n  say \"hi\nend\n",
			"main.bot:2:7: unterminated string\n   2 |   say \"hi\n     |       ^"},
		{"syntax: unclosed bracket", RoleSession, "dialog main do\n  say length([1, 2)\nend\n",
			"main.bot:2:13: this ( is never closed (a # starts a comment: inside filter, map and the like write it for the element)\n   2 |   say length([1, 2)\n     |             ^"},
		{"syntax: expression", RoleSession, "dialog main do\n  say 1 +* 2\nend\n",
			"main.bot:2:10: unexpected \"*\"\n   2 |   say 1 +* 2\n     |          ^"},
		{"syntax: single =", RoleSession, "dialog main do\n  if a = 1 do\n  end\nend\n",
			"main.bot:2:8: unexpected = in an expression (compare with ==)\n   2 |   if a = 1 do\n     |        ^"},
		{"unknown dialog", RoleSession, "dialog main do\n  invoke nope\nend\n",
			"main.bot:2:10: unknown dialog \"nope\" in invoke\n   2 |   invoke nope\n     |          ^"},
		{"unknown goto", RoleSession, "dialog main do\n  goto nope\nend\n",
			"main.bot:2:8: unknown dialog \"nope\" in goto\n   2 |   goto nope\n     |        ^"},
		{"unknown task", RoleSession, "dialog main do\n  perform nope\nend\n",
			"main.bot:2:11: unknown task \"nope\" in perform\n   2 |   perform nope\n     |           ^"},
		{"say in task", RoleSession, "task t do\n  say \"hi\"\nend\n",
			"main.bot:2:3: say is not allowed in a task: tasks run beside the conversation (use a dialog)\n   2 |   say \"hi\"\n     |   ^"},
		{"ask in master", RoleMaster, "dialog main do\n  ask \"hi\"\nend\n",
			"master.bot:2:3: ask is not allowed in master.bot: coordinators have no user (use emit to reach conversations)\n   2 |   ask \"hi\"\n     |   ^"},
		{"show in group", RoleGroup, "dialog main do\n  show image \"x.png\"\nend\n",
			"group.bot:2:3: show image is not allowed in group.bot: coordinators have no user (use emit to reach conversations)\n   2 |   show image \"x.png\"\n     |   ^"},
		{"invoke in task", RoleSession, "dialog d do\nend\ntask t do\n  invoke d\nend\n",
			"main.bot:4:3: invoke is not allowed in a task: tasks never touch the dialog stack\n   4 |   invoke d\n     |   ^"},
		{"assign message", RoleSession, "dialog main do\n  message = 1\nend\n",
			"main.bot:2:3: cannot assign to message: the runtime sets it (a task before: __user_message__ may rewrite it)\n   2 |   message = 1\n     |   ^"},
		{"assign event", RoleSession, "dialog main do\n  event.name = 1\nend\n",
			"main.bot:2:3: cannot assign to event: the runtime sets it\n   2 |   event.name = 1\n     |   ^"},
		{"assign user.id", RoleSession, "dialog main do\n  user.id = 1\nend\n",
			"main.bot:2:3: cannot assign to user.id: the runtime sets it\n   2 |   user.id = 1\n     |   ^"},
		{"assign answer via ask", RoleSession, "dialog main do\n  members = ask \"x\"\nend\n",
			"main.bot:2:3: cannot assign to members: the runtime sets it\n   2 |   members = ask \"x\"\n     |   ^"},
		{"reserved name", RoleSession, "dialog main do\n  say __rt\nend\n",
			"main.bot:2:7: names starting with __ are reserved\n   2 |   say __rt\n     |       ^"},
		{"bad trigger: regex", RoleSession, "dialog trigger: \"num #<n:[0-9>\" do\nend\n",
			"main.bot:1:17: bad trigger pattern \"num #<n:[0-9>\": #<n:[0-9>: error parsing regexp: missing closing ]: `[0-9`\n   1 | dialog trigger: \"num #<n:[0-9>\" do\n     |                 ^"},
		{"bad trigger: empty alternative", RoleSession, "dialog trigger: \"a||b\" do\nend\n",
			"main.bot:1:17: bad trigger pattern \"a||b\": an alternative between | is empty\n   1 | dialog trigger: \"a||b\" do\n     |                 ^"},
		{"bad trigger: unclosed capture", RoleSession, "dialog trigger: \"x #<name\" do\nend\n",
			"main.bot:1:17: bad trigger pattern \"x #<name\": #< is not closed with >\n   1 | dialog trigger: \"x #<name\" do\n     |                 ^"},
		{"unknown constant", RoleSession, "dialog main do\n  say @nope\nend\n",
			"main.bot:2:7: unknown constant @nope\n   2 |   say @nope\n     |       ^"},
		{"misspelt platform constant", RoleSession, "@timout \"5m\"\ndialog main do\nend\n",
			"main.bot:1:1: unknown platform constant @timout (did you mean @timeout?)\n   1 | @timout \"5m\"\n     | ^"},
		{"bad duration", RoleSession, "@timeout \"soon\"\n",
			"main.bot:1:1: @timeout: \"soon\" is not a duration (want e.g. \"500ms\", \"30s\", \"15m\", \"2h\", \"1d\" or a number of seconds)\n   1 | @timeout \"soon\"\n     | ^"},
		{"unknown function", RoleSession, "dialog main do\n  say shout(1)\nend\n",
			"main.bot:2:7: unknown function shout\n   2 |   say shout(1)\n     |       ^"},
		{"unreachable duplicate", RoleSession, "dialog main do\nend\ndialog main do\nend\n",
			"main.bot:3:1: dialog main can never run: the one at line 1 has no guard (when)\n   3 | dialog main do\n     | ^"},
		{"unknown option", RoleSession, "dialog main do\n  say \"x\", expecting: [1]\nend\n",
			"main.bot:2:12: say does not take expecting: (it takes quick_replies:)\n   2 |   say \"x\", expecting: [1]\n     |            ^"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.role.String(), tt.src, tt.role)
			if err == nil {
				t.Fatalf("compiled; want error:\n%s", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestCompileErrorsAll checks that one compile reports several errors.
func TestCompileErrorsAll(t *testing.T) {
	src := "dialog main do\n  invoke a\n  goto b\nend\ndialog x\nend\ntask t do\n  say 1\nend\n"
	_, err := Compile("main.bot", src, RoleSession)
	list, ok := err.(ErrorList)
	if !ok {
		t.Fatalf("got %T %v, want an ErrorList", err, err)
	}
	var lines []int
	for _, e := range list {
		lines = append(lines, e.Pos.Line)
	}
	if got, want := fmt.Sprint(lines), "[2 3 5 8]"; got != want {
		t.Errorf("error lines = %s, want %s\n%v", got, want, err)
	}
}
