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
