// Package trie is the prefix trie badger uses to match subscriptions' key prefixes against written keys.
//
// Part of badger v4.9.6 as carried by botserver (see ../PATCHES.md);
// upstream's code, unchanged here. Used only through package badger:
//
//	db, err := badger.Open(badger.DefaultOptions(dir))
package trie
