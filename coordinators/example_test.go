package coordinators_test

import (
	"context"
	"fmt"

	"botserver"
	"botserver/actors"
	"botserver/coordinators"
	"botserver/dsl"
	"botserver/persistence"
	"botserver/platforms/platformtest"
)

// A conversation spawns a group and gets its link; two conversations
// opened through the link join it, and what one says reaches the other
// through the group's fan-out.
func Example() {
	db, err := persistence.Open(persistence.Options{InMemory: true})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	rt, err := actors.NewRuntime(actors.Options{Store: db, Coordinators: coordinators.Kinds(),
		ChatLink: coordinators.ChatLink("https://chat.example.com")})
	if err != nil {
		panic(err)
	}
	defer rt.Close(context.Background())
	bot, err := dsl.CompileBot(map[string]string{
		"main.bot": `
dialog trigger: "open" do
  g = spawn_group("~tea", [topic: "tea"])
  say chat_link("web", g: g)
end
dialog __unknown__ when group do
  emit "said", [text: message], to: group
end
dialog event: "said" do
  say event.payload.text
end`,
		"group.bot": `
task event: "said" do
  emit "said", event.payload, to: filter(members, it != event.sender)
end`,
	})
	if err != nil {
		panic(err)
	}
	p := platformtest.New()
	rt.RegisterPlatform(platformtest.Name, p)
	if err := rt.AddBot(context.Background(), "rooms", bot); err != nil {
		panic(err)
	}
	say := func(user, group, text string) {
		if err := rt.Deliver(platformtest.Conv("rooms", user, group), botserver.Inbound{Text: text}); err != nil {
			panic(err)
		}
		if err := rt.Settle(context.Background()); err != nil {
			panic(err)
		}
	}
	say("alice", "", "open")
	fmt.Println(p.Take("test:alice")[0].Text)
	say("alice", "~tea", "hi")
	say("bob", "~tea", "hello alice")
	for _, out := range p.Take("test:alice@~tea") {
		fmt.Println("alice in ~tea got:", out.Text)
	}
	// Output:
	// https://chat.example.com/chat/rooms?g=~tea
	// alice in ~tea got: hello alice
}
