// The mailbox's system-message queue: many senders push, the mailbox's
// goroutine pops.
//
//	q := mpsc.New(); q.Push(msg); v := q.Pop()
package mpsc
