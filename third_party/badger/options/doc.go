// Package options holds badger's option enums (compression and checksum verification modes): callers set them in badger.Options, and the table and value-log code read them.
//
// Part of badger v4.9.6 as carried by botserver (see ../PATCHES.md);
// upstream's code, unchanged here. Used only through package badger:
//
//	db, err := badger.Open(badger.DefaultOptions(dir))
package options
