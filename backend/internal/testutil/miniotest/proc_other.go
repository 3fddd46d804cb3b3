//go:build !linux

package miniotest

import "os/exec"

// setDeathSignal does nothing where the kernel offers no parent-death
// signal; t.Cleanup still stops the server.
func setDeathSignal(*exec.Cmd) {}
