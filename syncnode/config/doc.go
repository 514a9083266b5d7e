// Package config loads and validates a sync node's configuration from a YAML file,
// environment variables (LATTICE_*) and flags, in that order of precedence (flags
// win), and reports every problem at start with a clear message.
package config
