package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Cleanup is a LIFO stack of teardown functions, run once by Run (also after
// an error or an interrupt).
type Cleanup struct {
	mu  sync.Mutex
	fns []func()
}

// Add registers fn to run at Run.
func (c *Cleanup) Add(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, fn)
}

// Run runs the registered functions, last added first.
func (c *Cleanup) Run() {
	c.mu.Lock()
	fns := c.fns
	c.fns = nil
	c.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// Proc is a child server process in its own process group, killed with the
// bench if the bench itself dies.
type Proc struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
}

// StartProc starts bin with args and extra environment, logging to logPath.
func StartProc(name, logPath string, env []string, bin string, args ...string) (*Proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own group: Ctrl-C reaches only the bench, which then stops its
	// children; Pdeathsig kills them should the bench be killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM, then SIGKILL after 5 s, and waits for the exit.
func (p *Proc) Stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// WaitHTTP polls url until it answers 200, the process exits or 60 s pass.
func (p *Proc) WaitHTTP(ctx context.Context, url string) error {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready:\n%s", p.Name, p.LogTail())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready at %s after 60 s:\n%s", p.Name, url, p.LogTail())
}

// LogTail is the end of the process's log, for error messages.
func (p *Proc) LogTail() string {
	b, _ := os.ReadFile(p.LogPath)
	if len(b) > 2048 {
		b = b[len(b)-2048:]
	}
	return string(bytes.TrimSpace(b))
}

// WatchRSS starts sampling the process's resident set every 10 ms, after
// resetting its high-water mark. The returned stop function reports the peak
// in bytes: the larger of the sampled maximum and VmHWM.
func (p *Proc) WatchRSS() (stop func() int64) {
	pid := p.Pid()
	// "5" resets VmHWM to the current RSS (Linux ≥ 4.0); best effort.
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
	quit, done := make(chan struct{}), make(chan int64)
	go func() {
		var peak int64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, procStatus(pid, "VmRSS"))
			select {
			case <-quit:
				done <- max(peak, procStatus(pid, "VmHWM"))
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 { close(quit); return <-done }
}

// CPUSeconds is the user plus system CPU time the process has used so far
// (utime and stime of /proc/<pid>/stat; 0 if unreadable). Per-process CPU
// per GB moved makes a regression visible as cost, not only as noisy MB/s.
func (p *Proc) CPUSeconds() float64 {
	if p == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid()))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14 and stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return float64(ut+st) / clockTicks
}

// SelfCPUSeconds is the user plus system CPU time this process has used
// so far (getrusage; 0 if unavailable).
func SelfCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// WaitQuiet waits until none of procs (nil ones are skipped) used more
// than a twentieth of a core over the last 200 ms, or 10 s have passed. A
// store still busy after the previous system's phase (MinIO removes a
// multipart upload's parts, collects garbage) would otherwise charge that
// work, and the CPU it takes, to whichever system is measured next.
func WaitQuiet(procs ...*Proc) {
	const window = 200 * time.Millisecond
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		before := make([]float64, len(procs))
		for i, p := range procs {
			before[i] = p.CPUSeconds()
		}
		time.Sleep(window)
		quiet := true
		for i, p := range procs {
			if p.CPUSeconds()-before[i] > window.Seconds()/20 {
				quiet = false
			}
		}
		if quiet {
			return
		}
	}
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// procStatus reads a "kB" field of /proc/<pid>/status, in bytes (0 if absent).
func procStatus(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// FreeAddr returns a 127.0.0.1 address whose port was free a moment ago.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
