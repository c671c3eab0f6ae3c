// Package flowtest holds in-memory fakes of the flows ports and a small world
// builder, for fast room-level tests of the conversation (DESIGN.md rule 12).
// The fakes follow the contracts written on the ports in flows/ports.go (and
// the stricter details storage/ documents), error codes included; fakes_test.go
// pins those contracts so that the fakes cannot drift from them silently.
// Nothing here talks to Postgres, Redis or Telegram.
package flowtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/renewbot/renewbot/flows"
)

// Clock is a settable clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ---- Customers ----

// Customers is an in-memory flows.Customers.
type Customers struct {
	mu    sync.Mutex
	byID  map[int64]flows.Customer
	links map[int64]flows.Link // by chat id
	seq   map[int64]int        // chat id -> order of linking, for LinkByCustomer
	n     int
}

var _ flows.Customers = (*Customers)(nil)

// NewCustomers returns an empty store.
func NewCustomers() *Customers {
	return &Customers{byID: map[int64]flows.Customer{}, links: map[int64]flows.Link{}, seq: map[int64]int{}}
}

// Put adds or replaces a customer.
func (s *Customers) Put(c flows.Customer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[c.ID] = c
}

// Link returns a chat's link as stored, active or not.
func (s *Customers) Link(chatID int64) (flows.Link, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[chatID]
	return l, ok
}

func (s *Customers) CustomerByPhone(_ context.Context, phone string) (flows.Customer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.byID {
		if c.Phone != "" && c.Phone == phone {
			return c, nil
		}
	}
	return flows.Customer{}, flows.Errorf(flows.NotFound, "customer with phone %q", phone)
}

func (s *Customers) Customer(_ context.Context, id int64) (flows.Customer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[id]
	if !ok {
		return flows.Customer{}, flows.Errorf(flows.NotFound, "customer %d", id)
	}
	return c, nil
}

func (s *Customers) LinkByChat(_ context.Context, chatID int64) (flows.Link, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[chatID]
	if !ok || !l.Active {
		return flows.Link{}, flows.Errorf(flows.NotFound, "link of chat %d", chatID)
	}
	return l, nil
}

func (s *Customers) LinkByCustomer(_ context.Context, customerID int64) (flows.Link, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best flows.Link
	bestSeq := -1
	for chat, l := range s.links {
		if l.CustomerID == customerID && l.Active && s.seq[chat] > bestSeq {
			best, bestSeq = l, s.seq[chat]
		}
	}
	if bestSeq < 0 {
		return flows.Link{}, flows.Errorf(flows.NotFound, "link of customer %d", customerID)
	}
	return best, nil
}

// LinkChat links or re-links a chat. An empty Lang keeps the previous one.
// NotFound when the customer does not exist; Invalid without ids.
func (s *Customers) LinkChat(_ context.Context, l flows.Link) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.ChatID == 0 || l.CustomerID == 0 {
		return flows.Errorf(flows.Invalid, "link chat %d to customer %d", l.ChatID, l.CustomerID)
	}
	if _, ok := s.byID[l.CustomerID]; !ok {
		return flows.Errorf(flows.NotFound, "link chat %d: customer %d", l.ChatID, l.CustomerID)
	}
	if old, ok := s.links[l.ChatID]; ok && l.Lang == "" {
		l.Lang = old.Lang
	}
	l.Active = true
	s.n++
	s.links[l.ChatID], s.seq[l.ChatID] = l, s.n
	return nil
}

func (s *Customers) SetLinkLang(_ context.Context, chatID int64, lang string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[chatID]
	if !ok {
		return flows.Errorf(flows.NotFound, "link of chat %d", chatID)
	}
	l.Lang = lang
	s.links[chatID] = l
	return nil
}

func (s *Customers) DeactivateLink(_ context.Context, chatID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.links[chatID]; ok {
		l.Active = false
		s.links[chatID] = l
	}
	return nil
}

// ---- Certificates ----

// Certificates is an in-memory flows.Certificates.
type Certificates struct {
	mu    sync.Mutex
	certs map[int64]flows.Certificate
}

var _ flows.Certificates = (*Certificates)(nil)

// NewCertificates returns an empty store.
func NewCertificates() *Certificates {
	return &Certificates{certs: map[int64]flows.Certificate{}}
}

// Put adds or replaces a certificate.
func (s *Certificates) Put(c flows.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.certs[c.ID] = c
}

// CertificatesOf lists soonest expiry first (then by id).
func (s *Certificates) CertificatesOf(_ context.Context, customerID int64) ([]flows.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []flows.Certificate
	for _, c := range s.certs {
		if c.CustomerID == customerID {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].NotAfter.Equal(out[j].NotAfter) {
			return out[i].NotAfter.Before(out[j].NotAfter)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (s *Certificates) Certificate(_ context.Context, id int64) (flows.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.certs[id]
	if !ok {
		return flows.Certificate{}, flows.Errorf(flows.NotFound, "certificate %d", id)
	}
	return c, nil
}

// ---- Catalog ----

// Catalog is an in-memory flows.Catalog. It also keeps the promo
// redemptions that Orders.RecordPayment writes.
type Catalog struct {
	mu          sync.Mutex
	packages    map[int64]flows.Package
	promos      map[int64]flows.PromoCode
	redemptions map[[2]int64]int // (promo, customer) -> paid uses
}

var _ flows.Catalog = (*Catalog)(nil)

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{packages: map[int64]flows.Package{}, promos: map[int64]flows.PromoCode{}, redemptions: map[[2]int64]int{}}
}

// PutPackage adds or replaces a package.
func (s *Catalog) PutPackage(p flows.Package) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.packages[p.ID] = p
}

// PutPromo adds or replaces a code (stored upper-case).
func (s *Catalog) PutPromo(p flows.PromoCode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.Code = strings.ToUpper(strings.TrimSpace(p.Code))
	s.promos[p.ID] = p
}

// AddRedemption records a past paid use of a code by a customer (and counts
// it in the code's Used).
func (s *Catalog) AddRedemption(promoID, customerID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.redemptions[[2]int64{promoID, customerID}]++
	p := s.promos[promoID]
	p.Used++
	s.promos[promoID] = p
}

// Promo returns a code by id as stored.
func (s *Catalog) Promo(id int64) flows.PromoCode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.promos[id]
}

func (s *Catalog) Packages(_ context.Context, t flows.CertType) ([]flows.Package, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []flows.Package
	for _, p := range s.packages {
		if p.CertType == t && p.Active {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Months != b.Months {
			return a.Months < b.Months
		}
		if a.PriceVND != b.PriceVND {
			return a.PriceVND < b.PriceVND
		}
		return a.ID < b.ID
	})
	return out, nil
}

func (s *Catalog) Package(_ context.Context, id int64) (flows.Package, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.packages[id]
	if !ok {
		return flows.Package{}, flows.Errorf(flows.NotFound, "package %d", id)
	}
	return p, nil
}

func (s *Catalog) PromoByCode(_ context.Context, code string) (flows.PromoCode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	code = strings.ToUpper(strings.TrimSpace(code))
	for _, p := range s.promos {
		if p.Code == code {
			return p, nil
		}
	}
	return flows.PromoCode{}, flows.Errorf(flows.NotFound, "promo code %q", code)
}

func (s *Catalog) PromoUsesBy(_ context.Context, promoID, customerID int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.redemptions[[2]int64{promoID, customerID}], nil
}

// redeem uses a code once for a customer unless MaxUses or PerCustomer
// would be exceeded.
func (s *Catalog) redeem(promoID, customerID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.promos[promoID]
	if !ok {
		return false
	}
	k := [2]int64{promoID, customerID}
	if (p.MaxUses > 0 && p.Used >= p.MaxUses) || (p.PerCustomer > 0 && s.redemptions[k] >= p.PerCustomer) {
		return false
	}
	p.Used++
	s.promos[promoID] = p
	s.redemptions[k]++
	return true
}

// ---- Sessions ----

// Sessions is an in-memory flows.Sessions with the compare-and-set of
// storage/redisstate: documents go through JSON like in Redis.
type Sessions struct {
	mu    sync.Mutex
	clock flows.Clock
	docs  map[int64][]byte
	saves int
}

var _ flows.Sessions = (*Sessions)(nil)

// NewSessions returns an empty store; clock stamps UpdatedAt.
func NewSessions(clock flows.Clock) *Sessions {
	return &Sessions{clock: clock, docs: map[int64][]byte{}}
}

// Seed stores s as it is (Version included, at least 1), bypassing the
// compare-and-set: the starting point of a test.
func (s *Sessions) Seed(sess flows.Session) {
	if sess.Version < 1 {
		panic("flowtest: Seed needs a session version >= 1")
	}
	sess.Schema = flows.SessionSchema
	doc, err := json.Marshal(sess)
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[sess.ChatID] = doc
}

// Get returns the stored session, if any.
func (s *Sessions) Get(chatID int64) (flows.Session, bool) {
	sess, err := s.LoadSession(context.Background(), chatID)
	return sess, err == nil
}

// Saves counts successful SaveSession calls.
func (s *Sessions) Saves() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

func (s *Sessions) LoadSession(_ context.Context, chatID int64) (flows.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, ok := s.docs[chatID]
	if !ok {
		return flows.Session{}, flows.Errorf(flows.NotFound, "session of chat %d", chatID)
	}
	var sess flows.Session
	if err := json.Unmarshal(doc, &sess); err != nil {
		return flows.Session{}, flows.Wrap(flows.Internal, err, "decode session %d", chatID)
	}
	return sess, nil
}

// SaveSession writes sess if the stored version equals sess.Version (0 = none
// may exist) and returns it with Version+1, Schema and UpdatedAt set.
// Conflict on a mismatch; Invalid for a negative version or an unknown state
// (in State or Back).
func (s *Sessions) SaveSession(_ context.Context, sess flows.Session) (flows.Session, error) {
	if sess.Version < 0 {
		return flows.Session{}, flows.Errorf(flows.Invalid, "save session %d: negative version %d", sess.ChatID, sess.Version)
	}
	for _, st := range append([]flows.State{sess.State}, sess.Back...) {
		if _, err := flows.ParseState(string(st)); err != nil {
			return flows.Session{}, flows.Wrap(flows.Invalid, err, "save session %d", sess.ChatID)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var stored int64
	if doc, ok := s.docs[sess.ChatID]; ok {
		var cur flows.Session
		if err := json.Unmarshal(doc, &cur); err != nil || cur.Version < 1 {
			return flows.Session{}, flows.Errorf(flows.Conflict, "save session %d: unreadable stored session", sess.ChatID)
		}
		stored = cur.Version
		if sess.Version == 0 {
			return flows.Session{}, flows.Errorf(flows.Conflict, "save session %d: exists", sess.ChatID)
		}
	}
	if stored != sess.Version {
		return flows.Session{}, flows.Errorf(flows.Conflict, "save session %d: version %d is stale (stored %d)", sess.ChatID, sess.Version, stored)
	}
	next := sess
	next.Schema = flows.SessionSchema
	next.Version = sess.Version + 1
	next.UpdatedAt = s.clock.Now().UTC()
	doc, err := json.Marshal(next)
	if err != nil {
		return flows.Session{}, flows.Wrap(flows.Internal, err, "encode session %d", sess.ChatID)
	}
	s.docs[sess.ChatID] = doc
	s.saves++
	var out flows.Session
	_ = json.Unmarshal(doc, &out)
	return out, nil
}

func (s *Sessions) DeleteSession(_ context.Context, chatID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.docs, chatID)
	return nil
}

// ---- Orders ----

// Orders is an in-memory flows.Orders. It redeems promo codes in the Catalog
// it was made with.
type Orders struct {
	mu       sync.Mutex
	clock    flows.Clock
	catalog  *Catalog
	orders   map[int64]flows.Order
	reached  map[int64]bool // reached awaiting_payment or later (source of inherited info)
	payments []flows.Payment
	dossiers map[int64]flows.Dossier // by order id, without Files
	files    map[int64][]flows.DossierFile
	content  map[int64][]byte // by file id
	nextID   int64
	nextPay  int64
	nextDos  int64
	nextFile int64
}

var _ flows.Orders = (*Orders)(nil)

// MaxFileSize is the largest dossier file AddDossierFile accepts.
const MaxFileSize = 20 << 20

// NewOrders returns an empty store redeeming codes of catalog.
func NewOrders(clock flows.Clock, catalog *Catalog) *Orders {
	return &Orders{clock: clock, catalog: catalog, orders: map[int64]flows.Order{}, reached: map[int64]bool{},
		dossiers: map[int64]flows.Dossier{}, files: map[int64][]flows.DossierFile{}, content: map[int64][]byte{}}
}

func isOpen(s flows.OrderStatus) bool {
	switch s {
	case flows.OrderDraft, flows.OrderAwaitingPayment, flows.OrderPaid, flows.OrderSubmitted, flows.OrderRejected:
		return true
	}
	return false
}

var orderStatuses = map[flows.OrderStatus]bool{
	flows.OrderDraft: true, flows.OrderAwaitingPayment: true, flows.OrderPaid: true, flows.OrderSubmitted: true,
	flows.OrderApproved: true, flows.OrderRejected: true, flows.OrderCancelled: true,
}

func checkPrices(o flows.Order) error {
	if o.PriceVND < 0 || o.DiscountVND < 0 || o.TotalVND < 0 || o.TotalVND != o.PriceVND-o.DiscountVND {
		return flows.Errorf(flows.Invalid, "order %d: price %d - discount %d != total %d", o.ID, o.PriceVND, o.DiscountVND, o.TotalVND)
	}
	return nil
}

// All returns every order, by id.
func (s *Orders) All() []flows.Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]flows.Order, 0, len(s.orders))
	for _, o := range s.orders {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Payments returns every recorded payment (duplicates are not stored).
func (s *Orders) Payments() []flows.Payment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]flows.Payment(nil), s.payments...)
}

// FileContent returns a stored file's bytes.
func (s *Orders) FileContent(fileID int64) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.content[fileID]
	return b, ok
}

// Force overwrites an order's status (no checks, version bumped): for setting
// up a test, e.g. an approved or rejected order.
func (s *Orders) Force(id int64, status flows.OrderStatus) flows.Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	o.Status = status
	o.Version++
	if status != flows.OrderDraft && status != flows.OrderCancelled {
		s.reached[id] = true
	}
	s.orders[id] = o
	return o
}

func (s *Orders) OpenOrder(_ context.Context, certificateID int64) (flows.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.orders {
		if o.CertificateID == certificateID && isOpen(o.Status) {
			return o, nil
		}
	}
	return flows.Order{}, flows.Errorf(flows.NotFound, "open order of certificate %d", certificateID)
}

// CreateOrder inserts a draft: ID, Ref (HD000001), Version 1, CreatedAt.
// Conflict when the certificate has an open order; Invalid when the status is
// not draft or the prices do not add up.
func (s *Orders) CreateOrder(_ context.Context, o flows.Order) (flows.Order, error) {
	if o.Status != "" && o.Status != flows.OrderDraft {
		return flows.Order{}, flows.Errorf(flows.Invalid, "create order: status %q, want draft", o.Status)
	}
	if err := checkPrices(o); err != nil {
		return flows.Order{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.orders {
		if x.CertificateID == o.CertificateID && isOpen(x.Status) {
			return flows.Order{}, flows.Errorf(flows.Conflict, "certificate %d already has open order %s", o.CertificateID, x.Ref)
		}
	}
	s.nextID++
	o.ID, o.Ref, o.Status, o.Version = s.nextID, fmt.Sprintf("HD%06d", s.nextID), flows.OrderDraft, 1
	o.CreatedAt, o.PaidAt = s.clock.Now(), time.Time{}
	s.orders[o.ID] = o
	return o, nil
}

func (s *Orders) Order(_ context.Context, id int64) (flows.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return flows.Order{}, flows.Errorf(flows.NotFound, "order %d", id)
	}
	return o, nil
}

func (s *Orders) OrderByRef(_ context.Context, ref string) (flows.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byRef(ref)
}

func (s *Orders) byRef(ref string) (flows.Order, error) {
	ref = strings.ToUpper(strings.TrimSpace(ref))
	for _, o := range s.orders {
		if o.Ref == ref {
			return o, nil
		}
	}
	return flows.Order{}, flows.Errorf(flows.NotFound, "order %q", ref)
}

// UpdateDraft writes package, prices, promo and info. NotFound;
// FailedPrecondition when not a draft (whatever the version); Conflict on a
// version mismatch; Invalid when prices do not add up.
func (s *Orders) UpdateDraft(_ context.Context, o flows.Order) (flows.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.orders[o.ID]
	switch {
	case !ok:
		return flows.Order{}, flows.Errorf(flows.NotFound, "update draft %d", o.ID)
	case cur.Status != flows.OrderDraft:
		return flows.Order{}, flows.Errorf(flows.FailedPrecondition, "update draft %d: order is %s", o.ID, cur.Status)
	case cur.Version != o.Version:
		return flows.Order{}, flows.Errorf(flows.Conflict, "update draft %d: version %d, stored %d", o.ID, o.Version, cur.Version)
	}
	if err := checkPrices(o); err != nil {
		return flows.Order{}, err
	}
	cur.PackageID, cur.PriceVND, cur.DiscountVND, cur.TotalVND = o.PackageID, o.PriceVND, o.DiscountVND, o.TotalVND
	cur.PromoID, cur.PromoCode = o.PromoID, o.PromoCode
	cur.Subject, cur.Invoice, cur.Payment = o.Subject, o.Invoice, o.Payment
	cur.Version++
	s.orders[o.ID] = cur
	return cur, nil
}

// SetOrderStatus moves from -> to. NotFound; Conflict when the order is not
// in from, or when reopening it would give its certificate a second open
// order; Invalid for an unknown status.
func (s *Orders) SetOrderStatus(_ context.Context, id int64, from, to flows.OrderStatus) (flows.Order, error) {
	if !orderStatuses[from] || !orderStatuses[to] {
		return flows.Order{}, flows.Errorf(flows.Invalid, "order %d: %q -> %q: unknown status", id, from, to)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return flows.Order{}, flows.Errorf(flows.NotFound, "order %d", id)
	}
	if o.Status != from {
		return flows.Order{}, flows.Errorf(flows.Conflict, "order %d: %s -> %s: order is %s", id, from, to, o.Status)
	}
	if isOpen(to) && !isOpen(from) {
		for _, x := range s.orders {
			if x.ID != id && x.CertificateID == o.CertificateID && isOpen(x.Status) {
				return flows.Order{}, flows.Errorf(flows.Conflict, "order %d: certificate already has open order %s", id, x.Ref)
			}
		}
	}
	o.Status = to
	if to != flows.OrderDraft && to != flows.OrderCancelled {
		s.reached[id] = true
	}
	if to == flows.OrderPaid && o.PaidAt.IsZero() {
		o.PaidAt = s.clock.Now()
	}
	o.Version++
	s.orders[id] = o
	return o, nil
}

func newestFirst(os []flows.Order) {
	sort.Slice(os, func(i, j int) bool {
		if !os[i].CreatedAt.Equal(os[j].CreatedAt) {
			return os[i].CreatedAt.After(os[j].CreatedAt)
		}
		return os[i].ID > os[j].ID
	})
}

func (s *Orders) LatestOrderOf(_ context.Context, customerID int64) (flows.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var os []flows.Order
	for _, o := range s.orders {
		if o.CustomerID == customerID && s.reached[o.ID] {
			os = append(os, o)
		}
	}
	if len(os) == 0 {
		return flows.Order{}, flows.Errorf(flows.NotFound, "latest order of customer %d", customerID)
	}
	newestFirst(os)
	return os[0], nil
}

func (s *Orders) OrdersOf(_ context.Context, customerID int64) ([]flows.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var os []flows.Order
	for _, o := range s.orders {
		if o.CustomerID == customerID {
			os = append(os, o)
		}
	}
	newestFirst(os)
	return os, nil
}

// RecordPayment stores a payment idempotently by (Provider, TransactionID)
// and pays the order it names (OrderID, else OrderRef) when that order is
// awaiting payment and the amount covers its total, redeeming its promo code
// within MaxUses and PerCustomer (else the payment is underpaid and the order
// unchanged). Invalid without provider or transaction id or with an amount
// <= 0; a zero PaidAt means now.
func (s *Orders) RecordPayment(_ context.Context, p flows.Payment) (flows.Payment, flows.Order, error) {
	p.Provider, p.TransactionID = strings.TrimSpace(p.Provider), strings.TrimSpace(p.TransactionID)
	p.OrderRef = strings.ToUpper(strings.TrimSpace(p.OrderRef))
	if p.Provider == "" || p.TransactionID == "" {
		return flows.Payment{}, flows.Order{}, flows.Errorf(flows.Invalid, "record payment: provider and transaction id are required")
	}
	if p.AmountVND <= 0 {
		return flows.Payment{}, flows.Order{}, flows.Errorf(flows.Invalid, "record payment: amount %d", p.AmountVND)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, first := range s.payments {
		if first.Provider == p.Provider && first.TransactionID == p.TransactionID {
			first.Status = flows.PaymentDuplicate
			return first, s.orders[first.OrderID], nil // zero order when unmatched
		}
	}
	if p.PaidAt.IsZero() {
		p.PaidAt = s.clock.Now()
	}
	var (
		o     flows.Order
		found bool
	)
	switch {
	case p.OrderID != 0:
		o, found = s.orders[p.OrderID]
	case p.OrderRef != "":
		var err error
		o, err = s.byRef(p.OrderRef)
		found = err == nil
	}
	s.nextPay++
	p.ID, p.OrderID, p.Status = s.nextPay, 0, flows.PaymentUnmatched
	switch {
	case !found || o.Status != flows.OrderAwaitingPayment:
		o = flows.Order{}
	case p.AmountVND < o.TotalVND:
		p.Status = flows.PaymentUnderpaid
	case o.PromoID != 0 && !s.catalog.redeem(o.PromoID, o.CustomerID):
		p.Status = flows.PaymentUnderpaid // the code ran out meanwhile: staff decide
	default:
		o.Status, o.PaidAt = flows.OrderPaid, p.PaidAt
		o.Version++
		s.orders[o.ID] = o
		s.reached[o.ID] = true
		p.Status = flows.PaymentMatched
	}
	if p.Status != flows.PaymentUnmatched {
		p.OrderID = o.ID
		if p.OrderRef == "" {
			p.OrderRef = o.Ref
		}
	}
	s.payments = append(s.payments, p)
	return p, o, nil
}

// ---- dossiers ----

func (s *Orders) dossier(orderID int64) (flows.Dossier, bool) {
	d, ok := s.dossiers[orderID]
	if ok {
		d.Files = append([]flows.DossierFile(nil), s.files[d.ID]...)
	}
	return d, ok
}

func (s *Orders) Dossier(_ context.Context, orderID int64) (flows.Dossier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dossier(orderID)
	if !ok {
		return flows.Dossier{}, flows.Errorf(flows.NotFound, "dossier of order %d", orderID)
	}
	return d, nil
}

var (
	signMethods     = map[flows.SignMethod]bool{"": true, flows.SignOTP: true, flows.SignHand: true, flows.SignDigital: true}
	dossierStatuses = map[flows.DossierStatus]bool{flows.DossierCollecting: true, flows.DossierSubmitted: true, flows.DossierApproved: true, flows.DossierRejected: true}
)

// SaveDossier creates or updates the order's only dossier (files are kept).
// An empty status means collecting. NotFound when the order does not exist;
// Invalid for an unknown method or status.
func (s *Orders) SaveDossier(_ context.Context, d flows.Dossier) (flows.Dossier, error) {
	if d.Status == "" {
		d.Status = flows.DossierCollecting
	}
	if !signMethods[d.Method] || !dossierStatuses[d.Status] {
		return flows.Dossier{}, flows.Errorf(flows.Invalid, "save dossier of order %d: method %q, status %q", d.OrderID, d.Method, d.Status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orders[d.OrderID]; !ok {
		return flows.Dossier{}, flows.Errorf(flows.NotFound, "save dossier: order %d", d.OrderID)
	}
	if cur, ok := s.dossiers[d.OrderID]; ok {
		d.ID = cur.ID
	} else {
		s.nextDos++
		d.ID = s.nextDos
	}
	d.Files = nil
	s.dossiers[d.OrderID] = d
	out, _ := s.dossier(d.OrderID)
	return out, nil
}

// AddDossierFile stores a file; Size and SHA256 come from content. Invalid
// over MaxFileSize or for a kind other than photo or pdf; NotFound when the
// dossier does not exist.
func (s *Orders) AddDossierFile(_ context.Context, f flows.DossierFile, content []byte) (flows.DossierFile, error) {
	if len(content) > MaxFileSize {
		return flows.DossierFile{}, flows.Errorf(flows.Invalid, "add file to dossier %d: %d bytes", f.DossierID, len(content))
	}
	if f.Kind != "photo" && f.Kind != "pdf" {
		return flows.DossierFile{}, flows.Errorf(flows.Invalid, "add file to dossier %d: kind %q", f.DossierID, f.Kind)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for _, d := range s.dossiers {
		found = found || d.ID == f.DossierID
	}
	if !found || f.DossierID == 0 {
		return flows.DossierFile{}, flows.Errorf(flows.NotFound, "add file: dossier %d", f.DossierID)
	}
	sum := sha256.Sum256(content)
	s.nextFile++
	f.ID, f.Size, f.SHA256, f.CreatedAt = s.nextFile, int64(len(content)), hex.EncodeToString(sum[:]), s.clock.Now()
	s.files[f.DossierID] = append(s.files[f.DossierID], f)
	s.content[f.ID] = append([]byte(nil), content...)
	return f, nil
}

// SubmitDossier marks the dossier and the order submitted. NotFound when
// the order does not exist; FailedPrecondition when it is not paid or
// rejected, or has no dossier.
func (s *Orders) SubmitDossier(_ context.Context, orderID int64, at time.Time) (flows.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	if !ok {
		return flows.Order{}, flows.Errorf(flows.NotFound, "submit dossier: order %d", orderID)
	}
	if o.Status != flows.OrderPaid && o.Status != flows.OrderRejected {
		return flows.Order{}, flows.Errorf(flows.FailedPrecondition, "submit dossier: order %s is %s", o.Ref, o.Status)
	}
	d, ok := s.dossiers[orderID]
	if !ok {
		return flows.Order{}, flows.Errorf(flows.FailedPrecondition, "submit dossier: order %s has no dossier", o.Ref)
	}
	d.Status, d.SubmittedAt, d.RejectReason = flows.DossierSubmitted, at, ""
	s.dossiers[orderID] = d
	o.Status = flows.OrderSubmitted
	o.Version++
	s.orders[orderID] = o
	return o, nil
}

// ---- OTPs ----

// OTPs is an in-memory flows.OTPs following storage/redisstate: a new code
// replaces the old one and resets its attempts; the maxAttempts-th wrong
// guess deletes it.
type OTPs struct {
	mu       sync.Mutex
	clock    flows.Clock
	codes    map[string]otp
	cooldown map[string]time.Time
}

type otp struct {
	hash     string
	attempts int
	expires  time.Time
}

var _ flows.OTPs = (*OTPs)(nil)

// NewOTPs returns an empty store timed by clock.
func NewOTPs(clock flows.Clock) *OTPs {
	return &OTPs{clock: clock, codes: map[string]otp{}, cooldown: map[string]time.Time{}}
}

func (s *OTPs) IssueOTP(_ context.Context, key, hash string, ttl, cooldown time.Duration) (time.Duration, error) {
	if hash == "" {
		return 0, flows.Errorf(flows.Invalid, "issue OTP: empty hash")
	}
	if ttl < time.Millisecond {
		return 0, flows.Errorf(flows.Invalid, "issue OTP: ttl %v", ttl)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if until, ok := s.cooldown[key]; ok && now.Before(until) {
		wait := until.Sub(now)
		return wait, flows.Errorf(flows.FailedPrecondition, "issue OTP: cooldown, retry in %v", wait)
	}
	s.codes[key] = otp{hash: hash, expires: now.Add(ttl)}
	if cooldown > 0 {
		s.cooldown[key] = now.Add(cooldown)
	}
	return 0, nil
}

func (s *OTPs) CheckOTP(_ context.Context, key, hash string, maxAttempts int) (bool, int, error) {
	if maxAttempts < 1 {
		return false, 0, flows.Errorf(flows.Invalid, "check OTP: maxAttempts %d", maxAttempts)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[key]
	if ok && !s.clock.Now().Before(c.expires) {
		delete(s.codes, key)
		ok = false
	}
	if !ok {
		return false, 0, flows.Errorf(flows.NotFound, "check OTP: no live code")
	}
	if c.attempts >= maxAttempts {
		delete(s.codes, key)
		return false, 0, flows.Errorf(flows.NotFound, "check OTP: no live code")
	}
	if c.hash == hash {
		delete(s.codes, key)
		return true, maxAttempts - c.attempts, nil
	}
	c.attempts++
	if c.attempts >= maxAttempts {
		delete(s.codes, key)
	} else {
		s.codes[key] = c
	}
	return false, maxAttempts - c.attempts, nil
}

// ---- Mailer, Files, Audit ----

// Mailer records the mails it is asked to send; Err, when set, fails them.
type Mailer struct {
	mu    sync.Mutex
	mails []flows.Mail
	Err   error
}

var _ flows.Mailer = (*Mailer)(nil)

func (m *Mailer) SendMail(_ context.Context, mail flows.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Err != nil {
		return m.Err
	}
	m.mails = append(m.mails, mail)
	return nil
}

// Mails returns what was sent, oldest first.
func (m *Mailer) Mails() []flows.Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]flows.Mail(nil), m.mails...)
}

// Files serves configured bytes by file id.
type Files struct {
	mu    sync.Mutex
	files map[string][]byte
}

var _ flows.Files = (*Files)(nil)

// NewFiles returns an empty file server.
func NewFiles() *Files { return &Files{files: map[string][]byte{}} }

// Put configures the bytes of a file id.
func (f *Files) Put(id string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[id] = data
}

// Download returns the bytes. NotFound for an unknown id; Invalid when
// larger than max.
func (f *Files) Download(_ context.Context, id string, max int64) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.files[id]
	if !ok {
		return nil, flows.Errorf(flows.NotFound, "file %q", id)
	}
	if int64(len(b)) > max {
		return nil, flows.Errorf(flows.Invalid, "file %q: %d bytes, max %d", id, len(b), max)
	}
	return append([]byte(nil), b...), nil
}

// Entry is one audit record.
type Entry struct {
	Actor, Action, Subject string
	Detail                 any
}

// Audit records entries.
type Audit struct {
	mu      sync.Mutex
	entries []Entry
}

var _ flows.Audit = (*Audit)(nil)

func (a *Audit) Audit(_ context.Context, actor, action, subject string, detail any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, Entry{actor, action, subject, detail})
	return nil
}

// Entries returns the records, oldest first.
func (a *Audit) Entries() []Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Entry(nil), a.entries...)
}
