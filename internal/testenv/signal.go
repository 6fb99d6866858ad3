package testenv

import (
	"errors"
	"os"
)

// Signal sends sig to the running berth process (SIGHUP applies iam.file
// again).
func (b *Berth) Signal(sig os.Signal) error {
	if b.cmd == nil || b.cmd.Process == nil {
		return errors.New("berth is not running")
	}
	select {
	case <-b.exited:
		return errors.New("berth has exited")
	default:
	}
	return b.cmd.Process.Signal(sig)
}

// Pid is the running berth process's id (0 when it is not running), for
// tests that read its /proc entries.
func (b *Berth) Pid() int {
	if b.cmd == nil || b.cmd.Process == nil {
		return 0
	}
	return b.cmd.Process.Pid
}
