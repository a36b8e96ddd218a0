package persistence_test

import (
	"errors"
	"fmt"

	"botserver/persistence"
)

// A bot's keys live in its own part of the store: write a state and a
// user record atomically, read one back, and count what is stored by kind.
func Example() {
	db, err := persistence.Open(persistence.Options{InMemory: true}) // Options{Dir: "./data"} on disk
	if err != nil {
		panic(err)
	}
	defer db.Close()
	echo, err := db.Bot("echo")
	if err != nil {
		panic(err)
	}
	err = echo.WriteSync( // durable when it returns; Write queues and calls back
		persistence.Op{Key: persistence.StateKey("web:u1"), Value: []byte("state"), Version: 1},
		persistence.Op{Key: persistence.UserKey("web:u1"), Value: []byte("user")},
	)
	if err != nil {
		panic(err)
	}
	v, _ := echo.Get(persistence.StateKey("web:u1"))
	fmt.Printf("%s\n", v)
	n, _ := echo.Count(persistence.PrefixState)
	fmt.Println(n, "state")
	other, _ := db.Bot("other")
	_, err = other.Get(persistence.StateKey("web:u1"))
	fmt.Println(errors.Is(err, persistence.ErrNotFound))
	// Output:
	// state
	// 1 state
	// true
}
