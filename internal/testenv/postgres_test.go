package testenv

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestStartPostgres(t *testing.T) {
	var port int
	t.Run("databases", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		dsns := []string{StartPostgres(t), StartPostgres(t)}
		if dsns[0] == dsns[1] {
			t.Fatalf("two calls gave the same database %s", dsns[0])
		}
		for i, dsn := range dsns {
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, "CREATE TABLE t (id int)"); err != nil {
				t.Fatalf("database %d: %v", i, err)
			}
			var n int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 0 {
				t.Fatalf("database %d: %d rows, %v", i, n, err)
			}
		}
		port = int(mustConfig(t, dsns[0]).Port)
	})
	if port == 0 {
		return // skipped: no PostgreSQL here
	}
	// The last user gone, the server is stopped.
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second); err == nil {
		c.Close()
		t.Fatalf("server still listening on %d after cleanup", port)
	}
}

func mustConfig(t *testing.T, dsn string) *pgx.ConnConfig {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
