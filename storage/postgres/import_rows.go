package postgres

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/renewbot/renewbot/flows"
)

// Reading and validating one row of each kind, then the checks across rows
// of the files. Checks against the database are in import_db.go.

// Length limits of the free-text columns, in characters.
const (
	maxCodeLen    = 64
	maxNameLen    = 200
	maxAddressLen = 500
	maxSubjectLen = 300
)

var promoCodePattern = regexp.MustCompile(`^[A-Z0-9_-]{1,32}$`)

// rowCheck collects the reasons one row is bad; a row is reported once, with
// every reason joined by "; ".
type rowCheck struct {
	im      *importer
	rec     record
	reasons []string
}

func (im *importer) check(rec record) *rowCheck { return &rowCheck{im: im, rec: rec} }

func (c *rowCheck) fail(format string, args ...any) {
	c.reasons = append(c.reasons, fmt.Sprintf(format, args...))
}

// done reports the row if it is bad, and says whether it is good.
func (c *rowCheck) done() bool {
	if len(c.reasons) == 0 {
		return true
	}
	c.im.add(c.rec.at, "%s", strings.Join(c.reasons, "; "))
	return false
}

// text validates a free-text column with flows.CheckText. An optional column
// may be empty.
func (c *rowCheck) text(col string, max int, required bool) string {
	v := c.rec.get(col)
	if v == "" && !required {
		return ""
	}
	switch flows.CheckText(v, max) {
	case "":
		return v
	case "err_required":
		c.fail("%s is required", col)
	case "err_too_long":
		c.fail("%s is longer than %d characters", col, max)
	default:
		c.fail("%s has control characters or letters outside the Latin script", col)
	}
	return v
}

// integer parses a plain base-10 integer (no separators); empty gives def.
func (c *rowCheck) integer(col string, def int64) (int64, bool) {
	v := c.rec.get(col)
	if v == "" {
		return def, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		c.fail("%s: %q is not a whole number", col, v)
		return 0, false
	}
	return n, true
}

// when parses YYYY-MM-DD (00:00 that day in the import's location) or an
// RFC 3339 time. It is required.
func (c *rowCheck) when(col string) (time.Time, bool) {
	v := c.rec.get(col)
	if v == "" {
		c.fail("%s is required", col)
		return time.Time{}, false
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, c.im.cfg.loc); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	c.fail("%s: %q is not a date (YYYY-MM-DD) or an RFC 3339 time", col, v)
	return time.Time{}, false
}

func (c *rowCheck) certType(col string) flows.CertType {
	v := c.rec.get(col)
	t, err := flows.ParseCertType(v)
	if err != nil {
		c.fail("%s: unknown certificate type %q (want individual, organization, member_manager or member_employee)", col, v)
	}
	return t
}

// list splits a "|"-separated column, dropping empty items and repeats.
func (c *rowCheck) list(col string) []string {
	out := []string{}
	for item := range strings.SplitSeq(c.rec.get(col), "|") {
		item = strings.TrimSpace(item)
		if item != "" && !containsString(out, item) {
			out = append(out, item)
		}
	}
	return out
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (im *importer) readCustomer(rec record) {
	c := im.check(rec)
	cu := customerIn{at: rec.at}
	cu.Code = c.text("code", maxCodeLen, true)
	if cu.Code != "" {
		if im.customerCodes == nil {
			im.customerCodes = map[string]bool{}
		}
		im.customerCodes[cu.Code] = true
	}
	cu.Name = c.text("name", maxNameLen, true)
	if v := rec.get("phone"); v == "" {
		c.fail("phone is required")
	} else if p, ok := flows.NormalizePhone(v); !ok {
		c.fail("phone: %q is not a Vietnamese mobile number", v)
	} else {
		cu.Phone = p
	}
	if v := rec.get("email"); v != "" {
		if flows.CheckEmail(v) != "" {
			c.fail("email: %q is not an email address", v)
		}
		cu.Email = v
	}
	if v := rec.get("id_number"); v != "" {
		if flows.CheckIDNumber(v) != "" {
			c.fail("id_number: %q is not a CCCD (12 digits) or CMND (9 digits)", v)
		}
		cu.IDNumber = v
	}
	if v := rec.get("tax_code"); v != "" {
		if t, ok := flows.NormalizeTaxCode(v); !ok {
			c.fail("tax_code: %q is not a tax code (10 digits, or 13 written 0123456789-001)", v)
		} else {
			cu.TaxCode = t
		}
	}
	cu.Address = c.text("address", maxAddressLen, false)
	cu.SalesRep = c.text("sales_rep", maxNameLen, false)
	if c.done() {
		im.customers = append(im.customers, cu)
	}
}

func (im *importer) readCertificate(rec record) {
	c := im.check(rec)
	ce := certificateIn{at: rec.at}
	ce.Serial = c.text("serial", maxCodeLen, true)
	ce.customerCode = c.text("customer_code", maxCodeLen, true)
	ce.Type = c.certType("type")
	ce.Subject = c.text("subject", maxSubjectLen, true)
	nb, ok1 := c.when("not_before")
	na, ok2 := c.when("not_after")
	if ok1 && ok2 && !na.After(nb) {
		c.fail("not_after %s is not after not_before %s", rec.get("not_after"), rec.get("not_before"))
	}
	ce.NotBefore, ce.NotAfter = nb, na
	if c.done() {
		im.certificates = append(im.certificates, ce)
	}
}

func (im *importer) readPackage(rec record) {
	c := im.check(rec)
	p := packageIn{at: rec.at}
	p.Code = c.text("code", maxCodeLen, true)
	if p.Code != "" {
		if im.packageCodes == nil {
			im.packageCodes = map[string]bool{}
		}
		im.packageCodes[p.Code] = true
	}
	p.CertType = c.certType("cert_type")
	p.Name = c.text("name", maxNameLen, true)
	if rec.get("months") == "" {
		c.fail("months is required")
	} else if m, ok := c.integer("months", 0); ok {
		if m <= 0 || m > 120 {
			c.fail("months must be between 1 and 120, not %d", m)
		}
		p.Months = int(m)
	}
	if rec.get("price_vnd") == "" {
		c.fail("price_vnd is required")
	} else if v, ok := c.integer("price_vnd", 0); ok {
		if v < 0 {
			c.fail("price_vnd must not be negative (%d)", v)
		}
		p.PriceVND = v
	}
	switch strings.ToLower(rec.get("active")) {
	case "", "true", "1", "yes", "y":
		p.Active = true
	case "false", "0", "no", "n":
		p.Active = false
	default:
		c.fail("active: %q is not true or false", rec.get("active"))
	}
	if c.done() {
		im.packages = append(im.packages, p)
	}
}

func (im *importer) readPromo(rec record) {
	c := im.check(rec)
	p := promoIn{at: rec.at}
	p.Code = normalizePromoCode(rec.get("code"))
	if !promoCodePattern.MatchString(p.Code) {
		c.fail("code: %q must be 1 to 32 letters A-Z, digits, - or _", rec.get("code"))
	}
	switch k := flows.PromoKind(strings.ToLower(rec.get("kind"))); k {
	case flows.PromoDiscount, flows.PromoReferral:
		p.Kind = k
	default:
		c.fail("kind: %q is not discount or referral", rec.get("kind"))
	}
	if v, ok := c.integer("percent_off", 0); ok {
		if v < 0 || v > 100 {
			c.fail("percent_off must be between 0 and 100, not %d", v)
		}
		p.PercentOff = int(v)
	}
	if v, ok := c.integer("amount_off_vnd", 0); ok {
		if v < 0 {
			c.fail("amount_off_vnd must not be negative (%d)", v)
		}
		p.AmountOffVND = v
	}
	if (p.PercentOff > 0) == (p.AmountOffVND > 0) {
		c.fail("exactly one of percent_off and amount_off_vnd must be set")
	}
	from, ok1 := c.when("valid_from")
	until, ok2 := c.when("valid_until")
	if ok1 && ok2 && !until.After(from) {
		c.fail("valid_until %s is not after valid_from %s", rec.get("valid_until"), rec.get("valid_from"))
	}
	p.ValidFrom, p.ValidUntil = from, until
	if v, ok := c.integer("max_uses", 0); ok {
		if v < 0 || v > 1<<31-1 {
			c.fail("max_uses must be 0 (unlimited) or more, not %d", v)
		}
		p.MaxUses = int(v)
	}
	if v, ok := c.integer("per_customer", 0); ok {
		if v < 0 || v > 1<<31-1 {
			c.fail("per_customer must be 0 (unlimited) or more, not %d", v)
		}
		p.PerCustomer = int(v)
	}
	p.CertTypes = []flows.CertType{}
	for _, s := range c.list("cert_types") {
		t, err := flows.ParseCertType(s)
		if err != nil {
			c.fail("cert_types: unknown certificate type %q", s)
			continue
		}
		p.CertTypes = append(p.CertTypes, t)
	}
	p.PackageCodes = c.list("package_codes")
	if c.done() {
		im.promos = append(im.promos, p)
	}
}

// checkWithinFiles finds keys repeated across the rows of the files.
func (im *importer) checkWithinFiles() {
	where := func(at origin) string { return fmt.Sprintf("%s:%d", im.files[at.file].Name, at.line) }

	codes, phones := map[string]origin{}, map[string]origin{}
	keep := im.customers[:0]
	for _, cu := range im.customers {
		ok := true
		if first, dup := codes[cu.Code]; dup {
			im.add(cu.at, "duplicate customer code %q (first at %s)", cu.Code, where(first))
			ok = false
		} else {
			codes[cu.Code] = cu.at
		}
		if first, dup := phones[cu.Phone]; dup {
			im.add(cu.at, "phone %s is also the phone of the customer at %s", cu.Phone, where(first))
			ok = false
		} else {
			phones[cu.Phone] = cu.at
		}
		if ok {
			keep = append(keep, cu)
		}
	}
	im.customers = keep

	im.certificates = uniqueRows(im, im.certificates, "certificate serial", func(c certificateIn) (string, origin) { return c.Serial, c.at }, where)
	im.packages = uniqueRows(im, im.packages, "package code", func(p packageIn) (string, origin) { return p.Code, p.at }, where)
	im.promos = uniqueRows(im, im.promos, "promo code", func(p promoIn) (string, origin) { return p.Code, p.at }, where)
}

// uniqueRows keeps the first row of each key and reports the repeats.
func uniqueRows[T any](im *importer, rows []T, what string, key func(T) (string, origin), where func(origin) string) []T {
	seen := map[string]origin{}
	keep := rows[:0]
	for _, r := range rows {
		k, at := key(r)
		if first, dup := seen[k]; dup {
			im.add(at, "duplicate %s %q (first at %s)", what, k, where(first))
			continue
		}
		seen[k] = at
		keep = append(keep, r)
	}
	return keep
}
