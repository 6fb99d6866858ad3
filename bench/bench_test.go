package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGoals(t *testing.T) {
	r := &Results{}
	r.Add("a", BerthDisk, 10)
	r.Add("b", BerthDisk, 8)
	r.Add("head", BerthS3, 100)
	r.Add("head", RefS3, 200)
	tests := []struct {
		name string
		g    Goal
		want string
	}{
		{"value below", Goal{Key: "a", System: BerthDisk, Want: 20}, "PASS"},
		{"value not below", Goal{Key: "a", System: BerthDisk, Want: 10}, "SHORT"},
		{"value at least", Goal{Key: "a", System: BerthDisk, Want: 10, Cmp: ">="}, "PASS"},
		{"value not at least", Goal{Key: "a", System: BerthDisk, Want: 11, Cmp: ">="}, "SHORT"},
		{"ratio at least", Goal{Key: "head", System: BerthS3, VsKey: "head", VsSystem: RefS3, Want: 0.5}, "PASS"},
		{"ratio short", Goal{Key: "head", System: BerthS3, VsKey: "head", VsSystem: RefS3, Want: 0.8}, "SHORT"},
		{"ratio at most", Goal{Key: "a", System: BerthDisk, VsKey: "b", VsSystem: BerthDisk, Want: 1.25, Cmp: "<="}, "PASS"},
		{"ratio above", Goal{Key: "a", System: BerthDisk, VsKey: "b", VsSystem: BerthDisk, Want: 1.2, Cmp: "<="}, "SHORT"},
		{"not measured", Goal{Key: "a", System: RefDisk, Want: 1}, "n/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w bytes.Buffer
			r.Goals(&w, []Goal{tt.g})
			if !strings.HasPrefix(w.String(), tt.want) {
				t.Errorf("got %q, want %s", w.String(), tt.want)
			}
		})
	}
}

func TestReadCredentials(t *testing.T) {
	tests := []struct {
		name, file string
		ok         bool
	}{
		{"shared credentials", "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cr3t\n", true},
		{"no spaces", "aws_access_key_id=AKIAEXAMPLE\naws_secret_access_key=s3cr3t", true},
		{"secret missing", "[default]\naws_access_key_id = AKIAEXAMPLE\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "creds")
			if err := os.WriteFile(p, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			if !tt.ok {
				cancel() // do not wait the 10 s for a complete file
			}
			defer cancel()
			id, secret, err := readCredentials(ctx, p)
			if tt.ok && (err != nil || id != "AKIAEXAMPLE" || secret != "s3cr3t") {
				t.Errorf("got %q %q %v", id, secret, err)
			}
			if !tt.ok && err == nil {
				t.Errorf("incomplete file accepted")
			}
		})
	}
}
