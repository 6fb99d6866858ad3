package audit

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func lines(t *testing.T, path string) []Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Event
	s := bufio.NewScanner(f)
	for s.Scan() {
		var e Event
		if err := json.Unmarshal(s.Bytes(), &e); err != nil {
			t.Fatalf("line %q is not an event: %v", s.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

// TestLog: one JSON line per record, 0600, flushed by Flush and Close,
// safe for concurrent writers.
func TestLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				l.Record(Event{EventTime: time.Now(), EventName: "BatchGetImage", Action: "ecr:BatchGetImage",
					Decision: "Allow", RequestID: string(rune('a'+i)) + string(rune('0'+j%10))})
			}
		}()
	}
	wg.Wait()
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := lines(t, path); len(got) != 400 || got[0].EventVersion != "1.08" {
		t.Fatalf("%d lines after Flush (first %+v), want 400", len(got), got[0])
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	l.Record(Event{EventName: "last", Decision: "Deny"})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Record(Event{EventName: "after close"}) // dropped, no panic
	if got := lines(t, path); len(got) != 401 || got[400].EventName != "last" {
		t.Fatalf("%d lines after Close, want 401 ending with the last record", len(got))
	}
}

// TestReopen: after logrotate renames the file, Reopen starts a new one
// and nothing is lost or written to the old name afterwards.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Record(Event{EventName: "before"})
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Record(Event{EventName: "after"})
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	old, cur := lines(t, path+".1"), lines(t, path)
	if len(old) != 1 || old[0].EventName != "before" || len(cur) != 1 || cur[0].EventName != "after" {
		t.Fatalf("rotated file %+v, new file %+v", old, cur)
	}
}
