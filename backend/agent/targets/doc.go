// Package targets turns the scrape configs into file targets: it runs
// each job's discovery providers, applies the job's relabel_configs with
// Prometheus' own relabel package (so keep, drop, replace, labelmap,
// hashmod, labeldrop, labelkeep... behave exactly as in Prometheus), keeps
// targets with a __path__ (and of this host, when __host__ is set), drops
// the labels starting with "__", and hands the result to the tailer.
//
// Goroutine-safety: Status and Ready may be called from any goroutine.
// THREADS: Run starts one goroutine per provider and applies changes in
// its own goroutine, at most five times a second.
package targets
