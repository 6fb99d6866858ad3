// Package audit writes berth's audit log: one JSON line per authorization
// decision on the ECR API, the registry and STS, shaped like a CloudTrail
// record (who, from where, what on which resource, allowed or denied and
// by which policy statement). Secrets never reach it.
package audit

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"sync"
	"time"
)

// Event is one audit record.
type Event struct {
	EventVersion    string     `json:"eventVersion"`
	EventTime       time.Time  `json:"eventTime"`
	EventSource     string     `json:"eventSource"`
	EventName       string     `json:"eventName"`
	AWSRegion       string     `json:"awsRegion"`
	SourceIPAddress string     `json:"sourceIPAddress,omitempty"`
	UserAgent       string     `json:"userAgent,omitempty"`
	RequestID       string     `json:"requestID,omitempty"`
	UserIdentity    Identity   `json:"userIdentity"`
	Action          string     `json:"action"`
	Resources       []Resource `json:"resources,omitempty"`
	// Decision is "Allow" or "Deny"; DecidingPolicy and DecidingStatement
	// name the statement that allowed or explicitly denied ("" for an
	// implicit deny).
	Decision          string `json:"decision"`
	DecidingPolicy    string `json:"decidingPolicy,omitempty"`
	DecidingStatement string `json:"decidingStatement,omitempty"`
	ErrorCode         string `json:"errorCode,omitempty"`
	ErrorMessage      string `json:"errorMessage,omitempty"`
}

// Identity is CloudTrail's userIdentity.
type Identity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId,omitempty"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	UserName    string `json:"userName,omitempty"`
	// SessionIssuer is the role of an assumed-role session.
	SessionIssuer string `json:"sessionIssuer,omitempty"`
}

// Resource is one resource the request acted on.
type Resource struct {
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId,omitempty"`
}

// flushEvery bounds how long a record waits in the buffer.
const flushEvery = 200 * time.Millisecond

// Log writes events as JSON lines through a buffer flushed every 200 ms
// and on Close, so a busy registry does not pay a write per request.
type Log struct {
	mu     sync.Mutex
	path   string // "" for standard output
	w      *bufio.Writer
	c      io.Closer // nil for stdout
	enc    *json.Encoder
	done   chan struct{}
	closed bool
	wg     sync.WaitGroup
}

// Open opens the audit log: "-" or "stdout" is standard output, anything
// else a file appended to (created 0600).
func Open(path string) (*Log, error) {
	if path == "-" || path == "stdout" {
		return New(os.Stdout, nil), nil
	}
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	l := New(f, f)
	l.path = path
	return l, nil
}

func openFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

// Reopen flushes and reopens the file (after logrotate moved it away); a
// log on standard output is left as it is.
func (l *Log) Reopen() error {
	if l.path == "" {
		return l.Flush()
	}
	f, err := openFile(l.path)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	err = l.w.Flush()
	if l.c != nil {
		if cerr := l.c.Close(); err == nil {
			err = cerr
		}
	}
	l.w.Reset(f)
	l.c = f
	return err
}

// New writes to w; Close closes c (when not nil).
func New(w io.Writer, c io.Closer) *Log {
	l := &Log{w: bufio.NewWriterSize(w, 64<<10), c: c, done: make(chan struct{})}
	// The encoder writes through l.w, which Reopen resets in place.
	l.enc = json.NewEncoder(l.w)
	l.enc.SetEscapeHTML(false)
	l.wg.Add(1)
	go l.flusher()
	return l
}

func (l *Log) flusher() {
	defer l.wg.Done()
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
			l.mu.Lock()
			_ = l.w.Flush()
			l.mu.Unlock()
		}
	}
}

// Record writes e (Encode appends the newline).
func (l *Log) Record(e Event) {
	if e.EventVersion == "" {
		e.EventVersion = "1.08"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		_ = l.enc.Encode(e)
	}
}

// Flush writes what is buffered.
func (l *Log) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Flush()
}

// Close flushes and closes the log.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	err := l.w.Flush()
	l.mu.Unlock()
	l.wg.Wait()
	if l.c != nil {
		if cerr := l.c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
