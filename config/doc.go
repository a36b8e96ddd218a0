// Package config is botserver.json: its fields, their defaults, the
// environment overrides, and the validation that names every problem
// (field, value, why) on its own line. A file's syntax and type errors name
// line:col; unknown fields are errors, so a typo never falls back to a
// default. The cluster section (cluster.go) is absent on a single node.
//
//	cfg, err := config.Load(path, os.Getenv) // "" loads every bot under scripts/examples
//	if err := cfg.Validate(); err != nil {
//		fmt.Fprintln(os.Stderr, err) // one problem per line
//	}
package config
