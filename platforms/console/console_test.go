package console_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"botserver"
	"botserver/actors"
	"botserver/dsl"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/console"
)

func TestSurveyInTheConsole(t *testing.T) {
	rt, _ := testkit.StartRuntime(t, persistence.Options{Dir: t.TempDir()}, actors.Options{})
	prog, err := dsl.LoadBot(os.DirFS("../../scripts/examples/survey"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.AddBot(context.Background(), "survey", prog); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p := console.New(&out)
	rt.RegisterPlatform(console.Name, p)
	in := strings.NewReader("3\n/event poke {\"x\":\n/event poke {\"x\": 1}\nhelp\n1\nNothing, thanks\n/quit\nnever read\n")
	conv := botserver.Conversation{Bot: "survey", Platform: console.Name, User: "ann"}
	if err := p.Run(context.Background(), in, rt, conv); err != nil {
		t.Fatal(err)
	}
	want := `bot: Hi ann! Three quick questions.
bot: Which colour do you like best?
    [1] Red  [2] Green  [3] Blue
bot: Cats or dogs?
    [1] Cats  [2] Dogs  [3] Neither
console: the payload of /event is not JSON: unexpected end of JSON input
bot: Just pick one of the buttons, or type your answer. Say 'quit' to stop.
bot: Back to the question:
bot: Cats or dogs?
    [1] Cats  [2] Dogs  [3] Neither
bot: Anything else you want to tell us?
bot: Thanks! You like blue and cats.
`
	if out.String() != want {
		t.Errorf("console output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestUnknownBot(t *testing.T) {
	rt, _ := testkit.StartRuntime(t, persistence.Options{InMemory: true}, actors.Options{})
	p := console.New(&bytes.Buffer{})
	err := p.Run(context.Background(), strings.NewReader("hi\n"), rt, botserver.Conversation{Bot: "ghost", Platform: console.Name, User: "ann"})
	if err == nil || !strings.Contains(err.Error(), "unknown bot") {
		t.Errorf("got %v, want unknown bot", err)
	}
}

// TestQuickReplyValueInTheConsole: a number picks a quick reply and sends
// its value when it has one.
func TestQuickReplyValueInTheConsole(t *testing.T) {
	rt, _ := testkit.StartRuntime(t, persistence.Options{InMemory: true}, actors.Options{})
	bot, err := dsl.LoadBot(fstest.MapFS{"main.bot": {Data: []byte(`
dialog main do
  s = ask "Which size?", expecting: [[label: "Large", value: "L"], [label: "Small", value: "S"]]
  say "size #{s} from #{message}"
end`)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.AddBot(context.Background(), "sizes", bot); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p := console.New(&out)
	rt.RegisterPlatform(console.Name, p)
	conv := botserver.Conversation{Bot: "sizes", Platform: console.Name, User: "ann"}
	if err := p.Run(context.Background(), strings.NewReader("2\n/quit\n"), rt, conv); err != nil {
		t.Fatal(err)
	}
	want := "bot: Which size?\n    [1] Large  [2] Small\nbot: size S from S\n"
	if out.String() != want {
		t.Errorf("console output:\n%s\nwant:\n%s", out.String(), want)
	}
}
