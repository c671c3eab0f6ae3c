// Package postgres is the system of record (DESIGN.md, "State: who owns
// what"): customers, Telegram links, certificates, the price list, promo codes,
// orders, payments, dossiers, the reminders ledger, the outbox, broadcasts,
// hand-offs and the audit log, in PostgreSQL through pgx v5.
//
// It implements the flows ports (flows.Customers, flows.Certificates,
// flows.Catalog, flows.Orders, flows.Audit) and the CSV import of the
// provider's data (see Import and CSV.md). The schema lives in embedded goose
// migrations (migrations/*.sql). SQL stays in this package, as constants next
// to the method that runs it; driver errors are translated into flows error
// codes here, once.
package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the embedded goose migrations (files 00001_*.sql, ...),
// e.g. for a test helper that fingerprints the schema.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil { // cannot happen: the directory is embedded
		panic(err)
	}
	return sub
}

// DB is a pool of connections to the renewbot database. It is safe for
// concurrent use.
type DB struct {
	pool *pgxpool.Pool
}

// Open connects to databaseURL (a postgres:// URL or a keyword/value DSN) and
// checks the connection. Unless the URL sets pool_max_conns, the pool keeps
// up to 4 connections per CPU, between 8 and 32: the bot's handlers are short
// transactions, and PostgreSQL degrades with many more active backends than
// cores.
func Open(ctx context.Context, databaseURL string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if !strings.Contains(databaseURL, "pool_max_conns") {
		cfg.MaxConns = int32(min(max(4*runtime.GOMAXPROCS(0), 8), 32))
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.MaxConnLifetime = time.Hour
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "renewbot"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	db := &DB{pool: pool}
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close closes every connection of the pool, waiting for those in use.
func (db *DB) Close() { db.pool.Close() }

// Pool exposes the pgx pool, for other storage code and for tests.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Migrate applies the embedded migrations that are not applied yet. A
// PostgreSQL advisory lock makes it safe when several instances start at once.
func (db *DB) Migrate(ctx context.Context) error {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close() // does not close the pool
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, Migrations(),
		goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

const sqlEmpty = `SELECT NOT EXISTS (SELECT 1 FROM customers)`

// Empty reports whether there are no customers yet (cmd loads the demo data
// into an empty database).
func (db *DB) Empty(ctx context.Context) (bool, error) {
	var empty bool
	if err := db.pool.QueryRow(ctx, sqlEmpty).Scan(&empty); err != nil {
		return false, dbError(err, "check for customers")
	}
	return empty, nil
}
