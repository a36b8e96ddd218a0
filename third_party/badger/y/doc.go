// Package y holds badger's shared utilities: key encoding with versions, watermarks, checksums, buffers, errors and metrics used by every other package of the module.
//
// Part of badger v4.9.6 as carried by botserver (see ../PATCHES.md);
// upstream's code, unchanged here. Used only through package badger:
//
//	db, err := badger.Open(badger.DefaultOptions(dir))
package y
