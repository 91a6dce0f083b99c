package store

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rotahq/rota/store/pgtest"
)

// schema is what TestSchemasMatch compares: each table's columns with
// their kind and nullability, and each index with its table, uniqueness,
// columns and predicate.
type schema struct {
	columns map[string][]string
	indexes map[string]string
}

// TestSchemasMatch: SQLite's migrations and PostgreSQL's produce the same
// tables, columns (kind, NOT NULL) and indexes, so that one set of queries
// means the same on both.
func TestSchemasMatch(t *testing.T) {
	ctx := context.Background()
	lite, err := Open(ctx, filepath.Join(t.TempDir(), "rota.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg, err := Open(ctx, pgtest.DSN(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	a, b := sqliteSchema(t, lite), postgresSchema(t, pg)
	for table, cols := range a.columns {
		if !slices.Equal(cols, b.columns[table]) {
			t.Errorf("table %s:\n  sqlite:   %v\n  postgres: %v", table, cols, b.columns[table])
		}
	}
	for table := range b.columns {
		if a.columns[table] == nil {
			t.Errorf("table %s is only on PostgreSQL", table)
		}
	}
	for name, def := range a.indexes {
		if b.indexes[name] != def {
			t.Errorf("index %s:\n  sqlite:   %s\n  postgres: %s", name, def, b.indexes[name])
		}
	}
	for name := range b.indexes {
		if _, ok := a.indexes[name]; !ok {
			t.Errorf("index %s is only on PostgreSQL", name)
		}
	}
	if len(a.columns) < 20 || len(a.indexes) < 30 {
		t.Errorf("compared too little: %d tables, %d indexes", len(a.columns), len(a.indexes))
	}
	va, _ := lite.SchemaVersion(ctx)
	vb, _ := pg.SchemaVersion(ctx)
	if va != vb {
		t.Errorf("schema versions: sqlite %d, postgres %d", va, vb)
	}
}

func kind(typ string) string {
	switch t := strings.ToLower(typ); {
	case strings.Contains(t, "int"):
		return "int"
	case t == "text" || strings.Contains(t, "char"):
		return "text"
	}
	return typ
}

var space = regexp.MustCompile(`\s+`)

// predicate is an index's WHERE clause, normalised: lower case, no
// parentheses or casts, single spaces.
func predicate(def string) string {
	i := strings.Index(strings.ToUpper(def), " WHERE ")
	if i < 0 {
		return ""
	}
	p := strings.ToLower(def[i+7:])
	p = regexp.MustCompile(`::\w+`).ReplaceAllString(p, "")
	p = strings.NewReplacer("(", "", ")", "", "<>", "!=").Replace(p)
	return strings.TrimSpace(space.ReplaceAllString(p, " "))
}

func sqliteSchema(t *testing.T, db *DB) schema {
	s := schema{columns: map[string][]string{}, indexes: map[string]string{}}
	rows, err := db.read.Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	for _, table := range tables {
		rows, err := db.read.Query(fmt.Sprintf("PRAGMA table_info(%q)", table))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var cid, notnull, pk int
			var name, typ string
			var def any
			rows.Scan(&cid, &name, &typ, &notnull, &def, &pk)
			s.columns[table] = append(s.columns[table], fmt.Sprintf("%s %s null=%v", name, kind(typ), notnull == 0 && pk == 0))
		}
		rows.Close()
		slices.Sort(s.columns[table])
	}
	rows, err = db.read.Query("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	type idx struct{ name, table, sql string }
	var idxs []idx
	for rows.Next() {
		var x idx
		rows.Scan(&x.name, &x.table, &x.sql)
		idxs = append(idxs, x)
	}
	rows.Close()
	for _, x := range idxs {
		cols := regexp.MustCompile(`\(([^)]*)\)`).FindStringSubmatch(x.sql)[1]
		unique := strings.HasPrefix(strings.ToUpper(x.sql), "CREATE UNIQUE")
		s.indexes[x.name] = fmt.Sprintf("%s unique=%v (%s) where %s", strings.Trim(x.table, `"`), unique, space.ReplaceAllString(cols, ""), predicate(x.sql))
	}
	return s
}

func postgresSchema(t *testing.T, db *DB) schema {
	s := schema{columns: map[string][]string{}, indexes: map[string]string{}}
	rows, err := db.read.Query(`SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, name, typ, nullable string
		rows.Scan(&table, &name, &typ, &nullable)
		s.columns[table] = append(s.columns[table], fmt.Sprintf("%s %s null=%v", name, kind(typ), nullable == "YES"))
	}
	rows.Close()
	for table := range s.columns {
		slices.Sort(s.columns[table])
	}
	rows, err = db.read.Query(`SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = current_schema()
		AND indexname NOT IN (SELECT conname FROM pg_constraint)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, table, def string
		rows.Scan(&name, &table, &def)
		cols := regexp.MustCompile(`USING \w+ \(([^)]*)\)`).FindStringSubmatch(def)[1]
		unique := strings.HasPrefix(def, "CREATE UNIQUE")
		s.indexes[name] = fmt.Sprintf("%s unique=%v (%s) where %s", table, unique, space.ReplaceAllString(cols, ""), predicate(def))
	}
	rows.Close()
	return s
}
