// Package pb holds botserver's protobuf messages: dynamic script values,
// events between script instances, user records, and the complete persisted
// state of a script instance (variables, coroutines with their dialog frames,
// armed timers, queued inputs).
//
// The Go code is generated from botserver.proto and botserver_cluster.proto (the
// messages between the members of a cluster) and committed. Regenerate it
// after editing the .proto with
//
//	go generate ./proto
//
// which needs protoc (Debian: protobuf-compiler) and protoc-gen-go
// (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12).
//
// The dsl package converts between these messages and its in-memory state;
// the persistence package stores them as bytes.
package pb

//go:generate protoc --go_out=. --go_opt=paths=source_relative botserver.proto botserver_cluster.proto
