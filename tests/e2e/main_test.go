package e2e_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestMain runs the tests, then stops the package's shared MinIO (if a test
// started one) and removes its directories.
func TestMain(m *testing.M) {
	code := m.Run()
	pkgTB.cleanup()
	os.Exit(code)
}

// shared is the package's one MinIO server, started by the first test that
// needs it. Tests get a bucket each (newBucket); the outage test starts a
// MinIO of its own because it stops it.
var shared struct {
	once sync.Once
	m    *testenv.MinIO
	fail string // StartMinIO failed: every caller fails with this
	skip string // BERTH_SKIP_MINIO=1
}

// sharedMinIO returns the package's MinIO, starting it on first use.
func sharedMinIO(t *testing.T) *testenv.MinIO {
	t.Helper()
	shared.once.Do(func() {
		defer func() {
			switch v := recover().(type) {
			case nil:
			case tbSkip:
				shared.skip = string(v)
			case tbFatal:
				shared.fail = string(v)
			default:
				panic(v)
			}
		}()
		shared.m = testenv.StartMinIO(pkgTB)
	})
	if shared.skip != "" {
		t.Skip(shared.skip)
	}
	if shared.fail != "" {
		t.Fatal(shared.fail)
	}
	return shared.m
}

var bucketSeq atomic.Int64

// newBucket makes a fresh bucket on m named after the test.
func newBucket(t *testing.T, m *testenv.MinIO) string {
	t.Helper()
	name := strings.ToLower(t.Name())
	name = regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(name, "-")
	name = fmt.Sprintf("e2e-%d-%s", bucketSeq.Add(1), name)
	if len(name) > 63 {
		name = name[:63]
	}
	name = strings.TrimRight(name, "-")
	m.MakeBucket(t, name)
	return name
}

// pkgTB is the testing.TB the shared MinIO lives under: its lifetime is the
// package's, not one test's (a test's t.Cleanup would stop it while other
// parallel tests still use it). It implements only what testenv.StartMinIO
// calls; Fatal and Skip unwind with a panic that sharedMinIO turns into the
// calling test's failure or skip.
var pkgTB = &packageTB{}

type packageTB struct {
	testing.TB // nil; any method not defined below panics if called

	mu       sync.Mutex
	cleanups []func()
	dirs     []string
}

type (
	tbFatal string
	tbSkip  string
)

// The methods testenv.StartMinIO uses.

func (p *packageTB) Helper()      {}
func (p *packageTB) Name() string { return "e2e-shared-minio" }

func (p *packageTB) TempDir() string {
	d, err := os.MkdirTemp("", "berth-e2e-minio-")
	if err != nil {
		panic(tbFatal(err.Error()))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dirs = append(p.dirs, d)
	return d
}

func (p *packageTB) Cleanup(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleanups = append(p.cleanups, f)
}

func (p *packageTB) Fatalf(format string, a ...any) { panic(tbFatal(fmt.Sprintf(format, a...))) }
func (p *packageTB) Fatal(a ...any)                 { panic(tbFatal(fmt.Sprint(a...))) }
func (p *packageTB) Skip(a ...any)                  { panic(tbSkip(fmt.Sprint(a...))) }
func (p *packageTB) Skipf(format string, a ...any)  { panic(tbSkip(fmt.Sprintf(format, a...))) }
func (p *packageTB) Logf(format string, a ...any)   { fmt.Fprintf(os.Stderr, format+"\n", a...) }

// cleanup runs the registered cleanups (last first) and removes the dirs.
func (p *packageTB) cleanup() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.cleanups) - 1; i >= 0; i-- {
		p.cleanups[i]()
	}
	for _, d := range p.dirs {
		_ = os.RemoveAll(d)
	}
	p.cleanups, p.dirs = nil, nil
}
