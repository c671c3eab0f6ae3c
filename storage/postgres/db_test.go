package postgres_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/renewbot/renewbot/storage/postgres/pgtest"
)

func TestMigrateCreatesSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// Migrate again: nothing to do.
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	rows, _ := db.Pool().Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_name <> 'goose_db_version' ORDER BY table_name`)
	var got []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"audit_log", "broadcast_recipients", "broadcasts", "certificates", "customers",
		"dossier_files", "dossiers", "handoffs", "orders", "outbox", "packages", "payments",
		"promo_codes", "promo_redemptions", "reminders", "reviews", "telegram_links"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tables (-want +got):\n%s", diff)
	}
}

func TestEmpty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	if empty, err := db.Empty(ctx); err != nil || !empty {
		t.Fatalf("Empty() on a new database = %v, %v; want true", empty, err)
	}
	if _, err := db.Import(ctx, files("customers.csv", customersCSV)); err != nil {
		t.Fatal(err)
	}
	if empty, err := db.Empty(ctx); err != nil || empty {
		t.Fatalf("Empty() after import = %v, %v; want false", empty, err)
	}
}

func TestAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	if err := db.Audit(ctx, "staff:42", "order.mark_paid", "order:HD000001", map[string]any{"amount": 1250000}); err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(ctx, "bot", "link", "chat:7", nil); err != nil {
		t.Fatal(err)
	}
	var detail []string
	rows, _ := db.Pool().Query(ctx, `SELECT coalesce(detail::text, 'NULL') FROM audit_log ORDER BY id`)
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		detail = append(detail, s)
	}
	if diff := cmp.Diff([]string{`{"amount": 1250000}`, "NULL"}, detail); diff != "" {
		t.Errorf("audit details (-want +got):\n%s", diff)
	}
}
