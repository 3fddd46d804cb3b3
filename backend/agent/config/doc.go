// Package config reads lode-agent's configuration: Promtail's YAML schema
// (server, positions, clients, scrape_configs with static_configs,
// file_sd_configs, kubernetes_sd_configs, relabel_configs and
// pipeline_stages, limits_config, target_config, global) plus a buffer
// block for the on-disk buffer.
//
// Defaults are the flag defaults (Config.RegisterFlags): -client.* flags
// are the defaults of every client in the file, as in Promtail. Parse
// decodes over them, then validates once.
//
// Errors: unknown keys and bad values are reported with their line and
// path (*KeyError, e.g. `line 5: scrape_configs[0]: unknown key
// "static_config"`); every configuration error wraps ErrInvalid.
// Promtail's non-file targets (journal, syslog, kafka...) are recognised
// and refused with a clear message. DecodeStrict is shared with the stages
// package, which decodes each stage the same way.
//
// Goroutine-safety: a Config is built once and then only read. THREADS:
// none.
package config
