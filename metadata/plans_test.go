package metadata

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLitePlans guards the listings' O(page) cost on SQLite: every list
// query searches an index from the cursor, never scans a table or sorts.
func TestSQLitePlans(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite", filepath.Join(t.TempDir(), "plans.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := st.(*sqlStore)
	type query struct {
		name string
		q    string
		args []any
	}
	p := Page{Limit: 100, After: "sha256:aa"}
	var qs []query
	for _, status := range []TagStatus{TagAny, TagTagged, TagUntagged} {
		q, args, err := imagesQuery("t", "r", "app", status, p)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, query{"ListImages " + string(status), q, args})
		q, args, err = imageIDsQuery("t", "r", "app", status, Page{Limit: 100, After: "sha256:aa|v1"})
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, query{"ListImageIDs " + string(status), q, args})
	}
	qs = append(qs,
		query{"Referrers", "SELECT " + imageCols + " FROM images i WHERE registry_id = ? AND repo = ? AND subject = ? AND digest > ? ORDER BY digest LIMIT ?",
			[]any{"r", "app", "sha256:bb", "", 101}},
		query{"ListRepositories", "SELECT " + repoCols + " FROM repositories WHERE registry_id = ? AND name > ? ORDER BY name LIMIT ?",
			[]any{"r", "", 101}},
	)
	for _, q := range qs {
		err := s.read(ctx, func(tx *tx) error {
			rows, err := tx.query("EXPLAIN QUERY PLAN "+q.q, q.args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					return err
				}
				if strings.HasPrefix(detail, "SCAN ") || strings.Contains(detail, "TEMP B-TREE") {
					t.Errorf("%s: plan step %q", q.name, detail)
				}
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
	}
}
