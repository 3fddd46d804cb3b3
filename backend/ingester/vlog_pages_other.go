//go:build !linux

package ingester

// vlogPages releases the resident pages of Badger's value log files on
// Linux (vlog_pages_linux.go); elsewhere it does nothing.
type vlogPages struct{}

func newVlogPages(string) *vlogPages { return &vlogPages{} }

func (*vlogPages) release() error { return nil }
