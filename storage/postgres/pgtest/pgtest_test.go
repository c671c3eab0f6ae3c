package pgtest_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/renewbot/renewbot/storage/postgres/pgtest"
)

func TestNewDB(t *testing.T) {
	a, b := pgtest.NewDB(t), pgtest.NewDB(t)
	var nameA, nameB string
	ctx := context.Background()
	if err := a.Pool().QueryRow(ctx, `SELECT current_database()`).Scan(&nameA); err != nil {
		t.Fatal(err)
	}
	if err := b.Pool().QueryRow(ctx, `SELECT current_database()`).Scan(&nameB); err != nil {
		t.Fatal(err)
	}
	if nameA == nameB || !strings.HasPrefix(nameA, "test_") {
		t.Errorf("databases %q and %q, want two fresh test_ databases", nameA, nameB)
	}
	if empty, err := a.Empty(ctx); err != nil || !empty {
		t.Errorf("fresh database: Empty() = %v, %v", empty, err)
	}
}

// fatalTB records Fatal instead of failing the real test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fatalTB) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }

func TestNewDBWithoutDatabaseURL(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		pgtest.NewDB(f)
	}()
	<-done
	if !strings.Contains(f.msg, "make test") {
		t.Errorf("NewDB without DATABASE_URL: Fatal(%q), want a hint to run `make test`", f.msg)
	}
}
