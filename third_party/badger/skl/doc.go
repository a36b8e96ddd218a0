// Package skl is badger's lock-free skiplist, the memtable: writes are inserted into an arena-backed skiplist and iterated in key order when the memtable is flushed to a table.
//
// Part of badger v4.9.6 as carried by botserver (see ../PATCHES.md);
// upstream's code, unchanged here. Used only through package badger:
//
//	db, err := badger.Open(badger.DefaultOptions(dir))
package skl
