package postgres

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/renewbot/renewbot/flows"
)

// ImportFile is one CSV file of the provider's data: Name is used in error
// messages ("customers.csv:12: ..."), R is read once.
type ImportFile struct {
	Name string
	R    io.Reader
}

// ImportOption tunes Import.
type ImportOption func(*importConfig)

type importConfig struct {
	loc *time.Location
}

// WithLocation sets where a plain date (YYYY-MM-DD) is read: it means 00:00
// of that day there. The default is Asia/Ho_Chi_Minh.
func WithLocation(loc *time.Location) ImportOption {
	return func(c *importConfig) {
		if loc != nil {
			c.loc = loc
		}
	}
}

// vietnam is Asia/Ho_Chi_Minh, or the same fixed UTC+7 (Vietnam has no
// daylight saving time) when the system has no time zone database.
func vietnam() *time.Location {
	if loc, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		return loc
	}
	return time.FixedZone("ICT", 7*60*60)
}

// ImportCounts says what happened to the rows of one kind.
type ImportCounts struct {
	Inserted  int
	Updated   int
	Unchanged int
}

// Rows is the number of rows of that kind in the files.
func (c ImportCounts) Rows() int { return c.Inserted + c.Updated + c.Unchanged }

// ImportReport counts the rows of each kind. Re-importing the same files
// reports the same Rows, all Unchanged.
type ImportReport struct {
	Customers    ImportCounts
	Certificates ImportCounts
	Packages     ImportCounts
	PromoCodes   ImportCounts
}

// String reads like "customers 3 (2 new, 1 updated, 0 unchanged), certificates ...".
func (r ImportReport) String() string {
	var parts []string
	for _, k := range []struct {
		name string
		c    ImportCounts
	}{{"customers", r.Customers}, {"certificates", r.Certificates}, {"packages", r.Packages}, {"promo codes", r.PromoCodes}} {
		parts = append(parts, fmt.Sprintf("%s %d (%d new, %d updated, %d unchanged)", k.name, k.c.Rows(), k.c.Inserted, k.c.Updated, k.c.Unchanged))
	}
	return strings.Join(parts, ", ")
}

// RowError is one bad row: File:Line: Reason. Line is the 1-based line of the
// file where the record starts (the header is line 1).
type RowError struct {
	File   string
	Line   int
	Reason string
}

func (e RowError) String() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

// ImportError lists every bad row of a rejected import. Import returns it
// wrapped in a flows.Invalid error; get it back with errors.As.
type ImportError struct {
	Rows []RowError
}

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad rows", len(e.Rows))
	for _, r := range e.Rows {
		b.WriteString("\n")
		b.WriteString(r.String())
	}
	return b.String()
}

// The CSV kinds, in the order they are written (dependencies first).
type csvKind int

const (
	kindCustomers csvKind = iota
	kindPackages
	kindCertificates
	kindPromoCodes
)

// csvHeaders are the columns of each kind; a file's kind is recognised by its
// header row (the same columns, in any order, case-insensitive).
var csvHeaders = map[csvKind][]string{
	kindCustomers:    {"code", "name", "phone", "email", "id_number", "tax_code", "address", "sales_rep"},
	kindCertificates: {"serial", "customer_code", "type", "subject", "not_before", "not_after"},
	kindPackages:     {"code", "cert_type", "name", "months", "price_vnd", "active"},
	kindPromoCodes: {"code", "kind", "percent_off", "amount_off_vnd", "valid_from", "valid_until",
		"max_uses", "per_customer", "cert_types", "package_codes"},
}

var kindNames = map[csvKind]string{
	kindCustomers: "customers", kindCertificates: "certificates",
	kindPackages: "packages", kindPromoCodes: "promo codes",
}

// Import loads the provider's CSV files (customers, certificates, packages,
// promo codes; see CSV.md) in one transaction.
//
// Each file's kind is recognised by its header row:
//
//	customers:    code,name,phone,email,id_number,tax_code,address,sales_rep
//	certificates: serial,customer_code,type,subject,not_before,not_after
//	packages:     code,cert_type,name,months,price_vnd,active
//	promo codes:  code,kind,percent_off,amount_off_vnd,valid_from,valid_until,max_uses,per_customer,cert_types,package_codes
//
// Files are UTF-8 (a BOM is stripped), comma-separated, with RFC 4180
// quoting; columns may come in any order; a kind may be split over several
// files. Dates are YYYY-MM-DD, meaning 00:00 of that day in the import's
// location (WithLocation, default Asia/Ho_Chi_Minh), or full RFC 3339 times.
// List columns (cert_types, package_codes) separate items with "|".
//
// Rows are upserted by their key (customer code, certificate serial, package
// code, promo code) in dependency order whatever the order of files, so
// re-importing the same files changes nothing. A promo code's uses so far and
// a customer's reminder opt-out are never touched by an import.
//
// Every row is validated first, against the other files and the database.
// When any row is bad nothing changes, and the error (flows.Invalid, wrapping
// an *ImportError) lists every bad row as "file:line: reason".
func (db *DB) Import(ctx context.Context, files []ImportFile, opts ...ImportOption) (ImportReport, error) {
	cfg := importConfig{loc: vietnam()}
	for _, o := range opts {
		o(&cfg)
	}
	im := &importer{cfg: cfg, files: files}
	for i, f := range files {
		im.readFile(i, f)
	}
	im.checkWithinFiles()

	var report ImportReport
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// One import at a time: the checks below read what the writes rely on.
		if _, err := tx.Exec(ctx, sqlImportLock); err != nil {
			return err
		}
		if err := im.checkWithDatabase(ctx, tx); err != nil {
			return err
		}
		if len(im.errs) > 0 {
			return im.err()
		}
		var err error
		report, err = im.write(ctx, tx)
		return err
	})
	if err != nil {
		var ie *ImportError
		if errors.As(err, &ie) {
			return ImportReport{}, flows.Wrap(flows.Invalid, ie, "import rejected, nothing changed")
		}
		return ImportReport{}, dbError(err, "import")
	}
	return report, nil
}

const sqlImportLock = `SELECT pg_advisory_xact_lock(hashtext('renewbot.import'))`

// origin is where a row came from.
type origin struct {
	file int // index in the files given to Import
	line int
}

type customerIn struct {
	at origin
	flows.Customer
}

type certificateIn struct {
	at           origin
	customerCode string
	flows.Certificate
}

type packageIn struct {
	at origin
	flows.Package
}

type promoIn struct {
	at origin
	flows.PromoCode
}

type importer struct {
	cfg   importConfig
	files []ImportFile
	errs  []RowError
	order []origin // parallel to errs, for sorting

	customers    []customerIn
	certificates []certificateIn
	packages     []packageIn
	promos       []promoIn

	// every key seen in the files, bad rows included, so that a reference to
	// a bad row is not reported a second time
	customerCodes map[string]bool
	packageCodes  map[string]bool
}

func (im *importer) add(at origin, format string, args ...any) {
	im.errs = append(im.errs, RowError{File: im.files[at.file].Name, Line: at.line, Reason: fmt.Sprintf(format, args...)})
	im.order = append(im.order, at)
}

// err returns every bad row, in file order and line order.
func (im *importer) err() *ImportError {
	idx := make([]int, len(im.errs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := im.order[a].file - im.order[b].file; c != 0 {
			return c
		}
		return im.order[a].line - im.order[b].line
	})
	out := &ImportError{}
	for _, i := range idx {
		out.Rows = append(out.Rows, im.errs[i])
	}
	return out
}

// record is one CSV record with its columns by name.
type record struct {
	at     origin
	fields map[string]string
}

func (r record) get(col string) string { return strings.TrimSpace(r.fields[col]) }

func (im *importer) readFile(i int, f ImportFile) {
	first := origin{file: i, line: 1}
	br := bufio.NewReader(f.R)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1 // checked below, per row, so every bad row is reported
	header, err := r.Read()
	if err == io.EOF {
		im.add(first, "empty file: no header row")
		return
	}
	if err != nil {
		im.add(first, "cannot read header: %v", csvReason(err))
		return
	}
	kind, cols, ok := im.recognise(first, header)
	if !ok {
		return
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return
		}
		line, _ := r.FieldPos(0)
		at := origin{file: i, line: line}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				at.line = pe.StartLine
			}
			// After a syntax error the reader's position is unreliable.
			im.add(at, "%s (the rest of the file was not read)", csvReason(err))
			return
		}
		if len(rec) != len(cols) {
			im.add(at, "%d fields, the header has %d", len(rec), len(cols))
			continue
		}
		if !utf8Valid(rec) {
			im.add(at, "not valid UTF-8 text")
			continue
		}
		row := record{at: at, fields: make(map[string]string, len(cols))}
		for j, c := range cols {
			row.fields[c] = rec[j]
		}
		switch kind {
		case kindCustomers:
			im.readCustomer(row)
		case kindCertificates:
			im.readCertificate(row)
		case kindPackages:
			im.readPackage(row)
		case kindPromoCodes:
			im.readPromo(row)
		}
	}
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "CSV syntax: " + pe.Err.Error()
	}
	return err.Error()
}

// recognise finds the kind whose columns the header has, and returns the
// header's column names normalized.
func (im *importer) recognise(at origin, header []string) (csvKind, []string, bool) {
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = strings.ToLower(strings.TrimSpace(h))
	}
	best, bestOverlap := csvKind(-1), 0
	for _, k := range []csvKind{kindCustomers, kindCertificates, kindPackages, kindPromoCodes} {
		want := csvHeaders[k]
		overlap := 0
		for _, c := range want {
			if slices.Contains(cols, c) {
				overlap++
			}
		}
		if overlap == len(want) && len(cols) == len(want) {
			return k, cols, true
		}
		if overlap > bestOverlap {
			best, bestOverlap = k, overlap
		}
	}
	if best < 0 {
		im.add(at, "unrecognised header %q: expected the columns of customers, certificates, packages or promo codes (see CSV.md)", strings.Join(header, ","))
		return 0, nil, false
	}
	var missing, extra []string
	for _, c := range csvHeaders[best] {
		if !slices.Contains(cols, c) {
			missing = append(missing, c)
		}
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if !slices.Contains(csvHeaders[best], c) || seen[c] {
			extra = append(extra, c)
		}
		seen[c] = true
	}
	var why []string
	if len(missing) > 0 {
		why = append(why, "lacks "+strings.Join(missing, ","))
	}
	if len(extra) > 0 {
		why = append(why, "has unknown or repeated "+strings.Join(extra, ","))
	}
	im.add(at, "header looks like %s (%s) but %s", kindNames[best], strings.Join(csvHeaders[best], ","), strings.Join(why, " and "))
	return 0, nil, false
}

func utf8Valid(rec []string) bool {
	for _, s := range rec {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}
