package actors

import "botserver/dsl"

// SendEvent routes the event name from sender to the instance at addr of
// bot as a delivery with input id, as a node forwarding an event between
// members does: tests of the duplicate filter on masters and groups.
func SendEvent(r *Runtime, bot, addr, sender, name string, id uint64) {
	ev := &dsl.Event{Name: name, Sender: sender}
	r.bot(bot).route(addr, &deliver{in: dsl.Input{Kind: dsl.InEvent, Event: ev}, id: id})
}
