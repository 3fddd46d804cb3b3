// Package discovery finds log targets: static_configs, file_sd_configs
// (Prometheus' file_sd format, YAML or JSON, re-read on change and every
// refresh interval) and kubernetes_sd_configs with role pod (client-go
// informers; one target per container port, or per container without
// ports, with Prometheus' __meta_kubernetes_pod_* labels).
//
// Main types: Group (a target group), Provider (Run calls an Updater
// with the complete groups of the provider each time they change).
//
// Goroutine-safety: a Provider's Run is called once; the Updater is called
// from Run's goroutine only. THREADS: FileSD runs in Run's goroutine with
// an fsnotify watcher; Kubernetes runs one informer goroutine per
// namespace plus Run's goroutine, which rebuilds the groups.
package discovery
