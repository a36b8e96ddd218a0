// Package fb holds the FlatBuffers tables badger writes into its table indexes: block offsets and table metadata flow from the table builder into these generated types and back when a table is opened.
//
// Part of badger v4.9.6 as carried by botserver (see ../PATCHES.md);
// upstream's code, unchanged here. Used only through package badger:
//
//	db, err := badger.Open(badger.DefaultOptions(dir))
package fb
