package miniotest

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill the server if the test process dies
// without running its cleanups (a timeout panic, a SIGKILL). The signal is
// tied to the OS thread that started the server, which the Go runtime
// keeps alive unless a goroutine exits while locked to it.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
