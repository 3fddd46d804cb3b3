// Package config is Lode's one configuration tree. Config nests the Config
// of every component package; each package registers its own flags (whose
// defaults are the only defaults) and validates its own settings, and Load
// runs them in one place:
//
//  1. every flag is registered with its default;
//  2. the YAML file named by -config.file, if any, overrides the defaults
//     (unknown keys are errors that name the key and line);
//  3. flags given on the command line override the file;
//  4. Validate checks every section once.
//
// Roles (targets.go) is the parsed -target: the parts of Lode a process
// runs.
//
// A loaded Config is read-only: nothing changes it during wiring. YAML
// prints the effective configuration with secrets redacted (served at
// /config).
package config
