package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/renewbot/renewbot/flows"
)

// dbError translates a driver error into a flows error code, once, at the
// storage boundary, and adds what we were doing:
//
//	no row                    -> NotFound
//	unique violation          -> Conflict
//	foreign key violation     -> NotFound (the referenced row does not exist)
//	check / not-null / data   -> Invalid
//	serialization, deadlock   -> Conflict (the caller may retry)
//	anything else             -> Internal (a plain wrapped error)
//
// The wrapped chain is kept for the log.
func dbError(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if flows.ErrorCode(err) != flows.Internal { // already translated
		return fmt.Errorf(format+": %w", append(args, err)...)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return flows.Wrap(flows.NotFound, err, format, args...)
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case pg.Code == "23505":
			return flows.Wrap(flows.Conflict, err, format, args...)
		case pg.Code == "23503":
			return flows.Wrap(flows.NotFound, err, format, args...)
		case pg.Code == "23514", pg.Code == "23502", len(pg.Code) == 5 && pg.Code[:2] == "22":
			return flows.Wrap(flows.Invalid, err, format, args...)
		case pg.Code == "40001", pg.Code == "40P01":
			return flows.Wrap(flows.Conflict, err, format, args...)
		}
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
