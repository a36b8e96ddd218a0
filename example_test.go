package botserver_test

import (
	"context"
	"fmt"

	"botserver"
	"botserver/actors"
	"botserver/coordinators"
	"botserver/dsl"
	"botserver/persistence"
)

// printer is a platform: the runtime calls Send with each message for a
// conversation on it. A real one queues the message for the user's
// connection and returns at once.
type printer struct{}

func (printer) Send(conv botserver.Conversation, out botserver.Outgoing) {
	if out.Kind == botserver.OutText {
		fmt.Printf("to %s: %s\n", conv.Address(), out.Text)
	}
}

// A platform hands what its users say to the runtime through the Gateway
// and gets the bots' answers through its Send.
func Example_platform() {
	db, err := persistence.Open(persistence.Options{InMemory: true})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	rt, err := actors.NewRuntime(actors.Options{Store: db, Coordinators: coordinators.Kinds()})
	if err != nil {
		panic(err)
	}
	defer rt.Close(context.Background())
	bot, err := dsl.CompileBot(map[string]string{"main.bot": "dialog __unknown__ do\n  say \"you said #{message}\"\nend\n"})
	if err != nil {
		panic(err)
	}
	if err := rt.AddBot(context.Background(), "echo", bot); err != nil {
		panic(err)
	}
	rt.RegisterPlatform("print", printer{})

	var gw botserver.Gateway = rt
	conv := botserver.Conversation{Bot: "echo", Platform: "print", User: "ada"}
	if err := gw.Deliver(conv, botserver.Inbound{Text: "hi"}); err != nil {
		panic(err)
	}
	rt.Settle(context.Background()) // a platform never waits; the example does, to print in order
	err = gw.Deliver(botserver.Conversation{Bot: "nobody", Platform: "print", User: "ada"}, botserver.Inbound{Text: "hi"})
	fmt.Println(err)
	// Output:
	// to print:ada: you said hi
	// unknown bot: nobody
}
