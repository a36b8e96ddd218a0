// Package table reads and writes badger's SST tables: a builder turns a flushed memtable into blocks with an index and checksums; a Table serves point lookups and iterators over them.
//
// Part of badger v4.9.6 as carried by botserver (see ../PATCHES.md);
// upstream's code, unchanged here. Used only through package badger:
//
//	db, err := badger.Open(badger.DefaultOptions(dir))
package table
