// Package goring is a growable ring-buffer queue, the unbounded user
// mailbox queue of the actor package.
//
//	q := goring.New(16); q.Push(msg); v, ok := q.Pop()
package goring
