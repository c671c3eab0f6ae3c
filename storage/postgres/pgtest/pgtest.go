// Package pgtest gives tests of every room a fresh, migrated PostgreSQL
// database on the real server that scripts/with-services.sh starts (never a
// mock). Run the tests with `make test`.
//
// The first call in a process makes (or finds) a template database migrated
// to the current schema, named after a hash of the migrations, so that later
// runs with the same migrations reuse it. Each test then gets a copy: CREATE
// DATABASE test_<random> TEMPLATE that template, which takes milliseconds,
// dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/renewbot/renewbot/storage/postgres"
)

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// NewDB returns a fresh migrated database, closed and dropped at the end of
// the test. It fails the test when DATABASE_URL is not set: run the tests
// with `make test` (or scripts/with-services.sh go test ./...).
func NewDB(t testing.TB) *postgres.DB {
	t.Helper()
	adminURL := os.Getenv("DATABASE_URL")
	if adminURL == "" {
		t.Fatal("pgtest: DATABASE_URL is not set: run the tests with `make test` " +
			"(or scripts/with-services.sh go test ./...), which starts a private PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(ctx, adminURL) })
	if templateErr != nil {
		t.Fatalf("pgtest: template database: %v", templateErr)
	}

	name := "test_" + randomHex(8)
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", redact(adminURL), err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`,
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{templateName}.Sanitize())); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() { dropDatabase(t, adminURL, name) })

	dbURL, err := withDatabase(adminURL, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("pgtest: open %s: %v", name, err)
	}
	t.Cleanup(db.Close) // runs before the drop (cleanups run last-in first-out)
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("pgtest: migrate %s: %v", name, err)
	}
	return db
}

// ensureTemplate returns the name of a template database at the current
// schema, creating it if needed. It is built under a temporary name and
// renamed when complete, under an advisory lock, so concurrent test processes
// and an interrupted run never see a half-migrated template.
func ensureTemplate(ctx context.Context, adminURL string) (string, error) {
	hash, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "renewbot_template_" + hash
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", redact(adminURL), err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(hashtext('renewbot.pgtest.template'))`); err != nil {
		return "", err
	}
	defer admin.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext('renewbot.pgtest.template'))`)

	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := "renewbot_template_building_" + randomHex(4)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{building}.Sanitize()); err != nil {
		return "", fmt.Errorf("create %s: %w", building, err)
	}
	ok := false
	defer func() {
		if !ok {
			admin.Exec(context.WithoutCancel(ctx), `DROP DATABASE IF EXISTS `+pgx.Identifier{building}.Sanitize()+` WITH (FORCE)`)
		}
	}()
	buildURL, err := withDatabase(adminURL, building)
	if err != nil {
		return "", err
	}
	db, err := postgres.Open(ctx, buildURL)
	if err != nil {
		return "", err
	}
	err = db.Migrate(ctx)
	db.Close() // a template must have no connections
	if err != nil {
		return "", fmt.Errorf("migrate %s: %w", building, err)
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`,
		pgx.Identifier{building}.Sanitize(), pgx.Identifier{name}.Sanitize())); err != nil {
		return "", fmt.Errorf("rename %s: %w", building, err)
	}
	ok = true
	return name, nil
}

// migrationsHash fingerprints the embedded migrations.
func migrationsHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(postgres.Migrations(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(postgres.Migrations(), path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func dropDatabase(t testing.TB, adminURL, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Errorf("pgtest: drop %s: %v", name, err)
		return
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
		t.Errorf("pgtest: drop %s: %v", name, err)
	}
}

// withDatabase returns the URL with another database name.
func withDatabase(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("DATABASE_URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "DATABASE_URL"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
