package flows_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/renewbot/renewbot/flows"
	ft "github.com/renewbot/renewbot/flows/flowtest"
)

// Room tests of the conversation (DESIGN.md rule 12): each row is a starting
// session (and world), one event, and the next session and the replies it
// must produce. The world is flowtest's standard one; see its constants.

// seedVersion is the version every seeded session is stored with, so that
// a button drawn for an older step carries seedVersion-1.
const seedVersion = 5

// sum shows a reply as its text ids, plus what else it carries.
func sum(r flows.Reply) string {
	var ids []string
	for _, t := range r.Texts {
		ids = append(ids, t.ID)
	}
	s := strings.Join(ids, " ")
	if r.AskContact {
		s += " {contact}"
	}
	if r.RemoveKeyboard {
		s += " {rmkb}"
	}
	if r.Transfer != nil {
		s += " {transfer}"
	}
	if r.Attachment != nil {
		s += " {file}"
	}
	return s
}

func sums(rs []flows.Reply) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, sum(r))
	}
	return out
}

type row struct {
	name string
	// chat is the chat the event comes from (ft.ChatID, linked, by default).
	chat int64
	// setup prepares the world and returns the session to store before the
	// event (its Version becomes seedVersion), or nil to keep what is stored.
	setup func(t *testing.T, w *ft.World) *flows.Session
	ev    flows.Event
	// evf, when set, builds the event after setup (e.g. a code from a mail).
	evf func(w *ft.World) flows.Event
	// version is the pressed button's session version; 0 means current.
	version int64
	// call replaces Engine.Handle (e.g. PaymentLanded).
	call func(ctx context.Context, w *ft.World) (flows.Outcome, error)

	want  []string // sum of each reply, in order
	staff []string
	// refused: the session must come back unchanged and not be saved.
	refused bool
	// next edits a copy of the starting session into the expected one
	// (Version, UpdatedAt and Schema are checked apart).
	next  func(s *flows.Session)
	check func(t *testing.T, w *ft.World, out flows.Outcome)
}

var ctx = context.Background()

// idle is the linked customer, nothing in progress.
func idle(*testing.T, *ft.World) *flows.Session {
	return &flows.Session{State: flows.StateIdle, CustomerID: ft.Customer, Lang: "vi"}
}

// awaitContact is an unlinked chat asked for its phone number.
func awaitContact(*testing.T, *ft.World) *flows.Session {
	return &flows.Session{State: flows.StateAwaitContact, Lang: "vi"}
}

// inOrder makes an order of cert for pkg in status and a session at state on it.
func inOrder(cert, pkg int64, status flows.OrderStatus, state flows.State, back ...flows.State) func(*testing.T, *ft.World) *flows.Session {
	return func(t *testing.T, w *ft.World) *flows.Session {
		o := w.OrderIn(t, cert, pkg, status)
		return &flows.Session{State: state, CustomerID: ft.Customer, Lang: "vi", CertificateID: cert, PackageID: pkg, OrderID: o.ID, Back: back}
	}
}

// draft is the individual certificate's 1-year draft, session at state.
func draft(state flows.State, back ...flows.State) func(*testing.T, *ft.World) *flows.Session {
	return inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderDraft, state, back...)
}

// withPending is a draft in renew_order with a code typed but not applied.
func withPending(code string) func(*testing.T, *ft.World) *flows.Session {
	return func(t *testing.T, w *ft.World) *flows.Session {
		s := draft(flows.StateOrder, flows.StatePickPackage)(t, w)
		s.PendingCode = code
		return s
	}
}

// upload is a paid order of cert whose dossier is signed by m, at renew_upload.
func upload(cert, pkg int64, m flows.SignMethod, files ...[]byte) func(*testing.T, *ft.World) *flows.Session {
	return func(t *testing.T, w *ft.World) *flows.Session {
		s := inOrder(cert, pkg, flows.OrderPaid, flows.StateUpload, flows.StateDossier, flows.StateSignMethod)(t, w)
		d := w.Dossier(t, s.OrderID, m)
		for _, f := range files {
			kind := "photo"
			if m == flows.SignDigital {
				kind = "pdf"
			}
			if _, err := w.Orders.AddDossierFile(ctx, flows.DossierFile{DossierID: d.ID, Kind: kind}, f); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
}

// atOTP is a paid order of the valid individual certificate whose customer
// pressed Confirm: a code was mailed and the session is at renew_otp.
func atOTP(t *testing.T, w *ft.World) *flows.Session {
	s := inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderPaid, flows.StateDossier)(t, w)
	s.Version, s.ChatID, s.UserID = seedVersion, ft.ChatID, ft.UserID
	w.Sessions.Seed(*s)
	out, err := w.Engine.Handle(ctx, flows.Event{ChatID: ft.ChatID, UserID: ft.UserID, Input: flows.Btn("confirm"), Version: seedVersion})
	if err != nil || out.Session.State != flows.StateOTP || w.LastOTP() == "" {
		t.Fatalf("confirm did not lead to an OTP: %v %v %q", err, out.Session.State, w.LastOTP())
	}
	return nil
}

func text(s string) flows.Event   { return flows.Event{Input: flows.InText, Text: s} }
func cmd(name string) flows.Event { return flows.Event{Input: flows.Cmd(name)} }
func btn(a string, args ...string) flows.Event {
	return flows.Event{Input: flows.Btn(a), Args: args}
}
func id(n int64) string { return strconv.FormatInt(n, 10) }

func contact(phone string, user int64) flows.Event {
	return flows.Event{Input: flows.InContact, Contact: &flows.Contact{Phone: phone, UserID: user}}
}

func file(in flows.Input, id, name, mime string, size int64) flows.Event {
	return flows.Event{Input: in, File: &flows.File{ID: id, Name: name, MIME: mime, Size: size}}
}

func order(t *testing.T, w *ft.World, id int64) flows.Order {
	t.Helper()
	o, err := w.Orders.Order(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

const (
	menu       = "menu"
	askContact = "ask_contact {contact}"
	orderPlain = "order_summary code_hint"
	certList   = "cert_line_expired cert_line cert_line cert_line cert_line" // Customer's, soonest expiry first
	subject    = "block_subject field_line field_line field_line field_line field_line"
)

func rows() []row {
	return []row{
		// ---- account ----
		{name: "/start unlinked asks for the phone number", chat: ft.OtherChat, ev: cmd("start"),
			want: []string{"welcome", askContact},
			next: func(s *flows.Session) { s.State = flows.StateAwaitContact }},
		{name: "/start on a linked chat that lost its session", ev: cmd("start"),
			want: []string{"welcome_back", menu},
			next: func(s *flows.Session) { s.State, s.CustomerID = flows.StateIdle, ft.Customer }},
		{name: "someone else's contact is refused", chat: ft.OtherChat, setup: awaitContact,
			ev: contact(ft.OtherPhone, 999), want: []string{"err_contact_not_own", askContact}, refused: true},
		{name: "unknown phone: stay, offer a person", chat: ft.OtherChat, setup: awaitContact,
			ev: contact("+84 903 000 000", ft.OtherUser), want: []string{"unknown_phone"}, staff: []string{"staff_unknown_phone"},
			check: func(t *testing.T, w *ft.World, out flows.Outcome) {
				if _, ok := w.Customers.Link(ft.OtherChat); ok {
					t.Error("an unknown phone linked the chat")
				}
				if p := out.Staff[0].Texts[0].Data["Phone"]; strings.Contains(p.(string), "903 000") {
					t.Errorf("staff see the phone unmasked: %v", p)
				}
			}},
		{name: "a phone that is not a Vietnamese mobile is unknown", chat: ft.OtherChat, setup: awaitContact,
			ev: contact("12345", ft.OtherUser), want: []string{"unknown_phone"}, staff: []string{"staff_unknown_phone"}},
		{name: "own contact links the chat", chat: ft.OtherChat, setup: awaitContact,
			ev: contact("+84 987 654 321", ft.OtherUser), want: []string{"linked {rmkb}", menu},
			next: func(s *flows.Session) { s.State, s.CustomerID = flows.StateIdle, ft.OtherCust },
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				l, ok := w.Customers.Link(ft.OtherChat)
				if !ok || l.CustomerID != ft.OtherCust || !l.Active || l.UserID != ft.OtherUser {
					t.Errorf("link = %+v", l)
				}
				if a := w.Audit.Entries(); len(a) != 1 || a[0].Action != "link" {
					t.Errorf("audit = %+v", a)
				}
			}},
		{name: "a typed phone number in await_contact is refused", chat: ft.OtherChat, setup: awaitContact,
			ev: text(ft.OtherPhone), want: []string{"err_contact_button", askContact}, refused: true},
		{name: "/certs unlinked asks to link first", chat: ft.OtherChat, ev: cmd("certs"),
			want: []string{"need_link", askContact}, next: func(s *flows.Session) { s.State = flows.StateAwaitContact }},
		{name: "Renew button unlinked asks to link first", chat: ft.OtherChat, setup: awaitContact, ev: btn("renew", id(ft.CertOther)),
			want: []string{"need_link", askContact}},

		// ---- everywhere, from idle ----
		{name: "idle /start", setup: idle, ev: cmd("start"), want: []string{"welcome_back", menu}},
		{name: "idle /help", setup: idle, ev: cmd("help"), want: []string{"help", menu}},
		{name: "idle /menu", setup: idle, ev: cmd("menu"), want: []string{menu}},
		{name: "idle Menu button", setup: idle, ev: btn("menu"), want: []string{menu}},
		{name: "idle /lang", setup: idle, ev: cmd("lang"), want: []string{"ask_lang"}},
		{name: "idle Language button", setup: idle, ev: btn("lang"), want: []string{"ask_lang"}},
		{name: "idle set English", setup: idle, ev: btn("setlang", "en"), want: []string{"lang_set", menu},
			next: func(s *flows.Session) { s.Lang = "en" },
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				if l, _ := w.Customers.Link(ft.ChatID); l.Lang != "en" {
					t.Errorf("link language %q, want en", l.Lang)
				}
			}},
		{name: "idle set an unknown language", setup: idle, ev: btn("setlang", "fr"), want: []string{"err_unexpected", menu}, refused: true},
		{name: "idle /certs", setup: idle, ev: cmd("certs"), want: []string{"certs_header " + certList}},
		{name: "idle My certificates button", setup: idle, ev: btn("certs"), want: []string{"certs_header " + certList}},
		{name: "idle /human", setup: idle, ev: cmd("human"), want: []string{"human_requested"}, staff: []string{"staff_human"}},
		{name: "idle Talk to a person button", setup: idle, ev: btn("human"), want: []string{"human_requested"}, staff: []string{"staff_human"}},
		{name: "idle /cancel", setup: idle, ev: cmd("cancel"), want: []string{"cancelled", menu}},
		{name: "idle Cancel button", setup: idle, ev: btn("cancel"), want: []string{"cancelled", menu}},
		{name: "idle Back with nothing to go back to", setup: idle, ev: btn("back"), want: []string{menu}},
		{name: "idle /renew with several certificates", setup: idle, ev: cmd("renew"), want: []string{"pick_cert " + certList},
			next: func(s *flows.Session) { s.State = flows.StatePickCert }},
		{name: "idle Renew button without a certificate", setup: idle, ev: btn("renew"), want: []string{"pick_cert " + certList},
			next: func(s *flows.Session) { s.State = flows.StatePickCert }},
		{name: "idle /status without orders", setup: idle, ev: cmd("status"), want: []string{"no_orders", menu}},
		{name: "idle Status button without orders", setup: idle, ev: btn("status"), want: []string{"no_orders", menu}},

		// ---- versions ----
		{name: "stale button: expired, current step again, nothing saved", setup: draft(flows.StateOrder, flows.StatePickPackage),
			ev: btn("next"), version: seedVersion - 1, want: []string{"btn_expired", orderPlain}, refused: true,
			check: func(t *testing.T, _ *ft.World, out flows.Outcome) {
				if out.Notice == nil || out.Notice.ID != "btn_expired" {
					t.Errorf("notice = %v", out.Notice)
				}
			}},
		{name: "double-tapped Pay: expired, account details without another QR", setup: inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderAwaitingPayment, flows.StateAwaitPayment),
			ev: btn("pay"), version: seedVersion - 1, want: []string{"btn_expired", "pay_transfer"}, refused: true,
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				if n := len(w.Orders.All()); n != 1 {
					t.Errorf("%d orders", n)
				}
			}},
		{name: "versionless Renew from an old message works", setup: idle, ev: btn("renew", id(ft.CertIndividual)), version: 1,
			want: []string{"pick_package cert_line"},
			next: func(s *flows.Session) { s.State, s.CertificateID = flows.StatePickPackage, ft.CertIndividual }},
		{name: "versionless Renew from a proactive message (AnyVersion)", setup: idle, ev: btn("renew", id(ft.CertIndividual)), version: flows.AnyVersion,
			want: []string{"pick_package cert_line"},
			next: func(s *flows.Session) { s.State, s.CertificateID = flows.StatePickPackage, ft.CertIndividual }},
		{name: "versionless My certificates from an old message works", setup: draft(flows.StateSubject, flows.StatePickPackage, flows.StateOrder),
			ev: btn("certs"), version: 1, want: []string{"certs_header " + certList}},

		// ---- inputs a state does not take ----
		{name: "photo in renew_order", setup: draft(flows.StateOrder, flows.StatePickPackage),
			ev: file(flows.InPhoto, "p", "", "image/jpeg", 10), want: []string{"err_unexpected_file", orderPlain}, refused: true},
		{name: "text in idle", setup: idle, ev: text("hello"), want: []string{"err_unexpected", menu}, refused: true},
		{name: "unknown command in idle", setup: idle, ev: cmd("foo"), want: []string{"err_unexpected_command", menu}, refused: true},
		{name: "a current button the state does not take", setup: draft(flows.StateOrder, flows.StatePickPackage),
			ev: btn("pay"), want: []string{"err_unexpected", orderPlain}, refused: true},
		{name: "text at the price list", setup: inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderCancelled, flows.StatePickPackage),
			ev: text("1"), want: []string{"err_unexpected", "pick_package cert_line"}, refused: true},
		{name: "contact in renew_confirm", setup: draft(flows.StateConfirm), ev: contact(ft.CustPhone, ft.UserID),
			want: []string{"err_unexpected", "order_summary confirm_pay"}, refused: true},

		// ---- certificate and package ----
		{name: "renew another customer's certificate", setup: idle, ev: btn("renew", id(ft.CertOther)),
			want: []string{"err_not_yours", menu}, refused: true},
		{name: "renew a certificate that does not exist", setup: idle, ev: btn("renew", "999"), want: []string{"err_not_yours", menu}, refused: true},
		{name: "renew with a malformed id", setup: idle, ev: btn("renew", "x1"), want: []string{"err_not_yours", menu}, refused: true},
		{name: "pick a certificate", setup: func(*testing.T, *ft.World) *flows.Session {
			return &flows.Session{State: flows.StatePickCert, CustomerID: ft.Customer, Lang: "vi"}
		}, ev: btn("renew", id(ft.CertOrg)), want: []string{"pick_package cert_line"},
			next: func(s *flows.Session) { s.State, s.CertificateID = flows.StatePickPackage, ft.CertOrg }},
		{name: "a package of another certificate type", setup: pricelist(ft.CertIndividual), ev: btn("pkg", id(ft.PkgOrg1Y)),
			want: []string{"err_package_unavailable", "pick_package cert_line"}, refused: true},
		{name: "an inactive package", setup: pricelist(ft.CertIndividual), ev: btn("pkg", id(ft.PkgIndGone)),
			want: []string{"err_package_unavailable", "pick_package cert_line"}, refused: true},
		{name: "pick a package: a draft with inherited info", setup: pricelist(ft.CertIndividual), ev: btn("pkg", id(ft.PkgInd1Y)),
			want: []string{orderPlain},
			next: func(s *flows.Session) {
				s.State, s.PackageID, s.OrderID, s.Back = flows.StateOrder, ft.PkgInd1Y, 1, []flows.State{flows.StatePickPackage}
			},
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				o := order(t, w, 1)
				want := flows.SubjectInfo{FullName: "Nguyễn Văn An", IDNumber: "012345678901", Address: "1 Lê Lợi, Quận 1, TP HCM", Email: ft.CustEmail, Phone: ft.CustPhone}
				got := o.Subject
				got.TaxCode = "" // see the report: the customer's tax code is inherited even by a person's certificate
				if o.Status != flows.OrderDraft || o.TotalVND != ft.PriceInd1Y || got != want {
					t.Errorf("order %+v", o)
				}
			}},
		{name: "another package switches the draft and drops its code", setup: func(t *testing.T, w *ft.World) *flows.Session {
			s := draft(flows.StatePickPackage)(t, w)
			o := order(t, w, s.OrderID)
			o.PromoID, o.PromoCode, o.DiscountVND, o.TotalVND = 1, ft.CodeSave10, 50_000, 450_000
			if _, err := w.Orders.UpdateDraft(ctx, o); err != nil {
				t.Fatal(err)
			}
			return s
		}, ev: btn("pkg", id(ft.PkgInd2Y)), want: []string{orderPlain},
			next: func(s *flows.Session) {
				s.State, s.PackageID, s.Back = flows.StateOrder, ft.PkgInd2Y, []flows.State{flows.StatePickPackage}
			},
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				o := order(t, w, 1)
				if o.PackageID != ft.PkgInd2Y || o.PromoID != 0 || o.TotalVND != 900_000 || len(w.Orders.All()) != 1 {
					t.Errorf("order %+v", o)
				}
			}},
		{name: "a package while the certificate's order awaits payment", setup: inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderAwaitingPayment, flows.StatePickPackage),
			ev: btn("pkg", id(ft.PkgInd2Y)), want: []string{"err_order_exists", "pick_package cert_line"}, refused: true},

		// ---- codes ----
		{name: "type a code", setup: draft(flows.StateOrder, flows.StatePickPackage), ev: text(" save10 "),
			want: []string{"order_summary code_pending"}, next: func(s *flows.Session) { s.PendingCode = ft.CodeSave10 }},
		{name: "type something that is not a code", setup: draft(flows.StateOrder, flows.StatePickPackage), ev: text("SAVE 10"),
			want: []string{"err_code_format", orderPlain}, refused: true},
		{name: "Apply a good code", setup: withPending(ft.CodeSave10), ev: btn("apply"),
			want: []string{"code_applied", "order_summary"}, next: func(s *flows.Session) { s.PendingCode = "" },
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				o := order(t, w, 1)
				if o.PromoID != 1 || o.PromoCode != ft.CodeSave10 || o.DiscountVND != 50_000 || o.TotalVND != 450_000 {
					t.Errorf("order %+v", o)
				}
			}},
		{name: "Apply a fixed-amount code", setup: withPending(ft.CodeFlat), ev: btn("apply"),
			want: []string{"code_applied", "order_summary"}, next: func(s *flows.Session) { s.PendingCode = "" },
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				if o := order(t, w, 1); o.TotalVND != 400_000 {
					t.Errorf("total %d", o.TotalVND)
				}
			}},
		applyRefused("NOPE", "err_code_unknown"),
		applyRefused(ft.CodeSoon, "err_code_not_started"),
		applyRefused(ft.CodeOld, "err_code_expired"),
		applyRefused(ft.CodeGone, "err_code_exhausted"),
		applyRefused(ft.CodeOnce, "err_code_used"),
		applyRefused(ft.CodeOrgOnly, "err_code_not_applicable"),
		applyRefused(ft.CodeTwoYears, "err_code_not_applicable"),
		{name: "Apply with no code typed", setup: draft(flows.StateOrder, flows.StatePickPackage), ev: btn("apply"),
			want: []string{"code_hint", orderPlain}, refused: true},
		{name: "remove an applied code", setup: func(t *testing.T, w *ft.World) *flows.Session {
			s := draft(flows.StateOrder, flows.StatePickPackage)(t, w)
			o := order(t, w, s.OrderID)
			o.PromoID, o.PromoCode, o.DiscountVND, o.TotalVND = 1, ft.CodeSave10, 50_000, 450_000
			w.Orders.UpdateDraft(ctx, o)
			return s
		}, ev: btn("rmcode"), want: []string{"code_removed", orderPlain},
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				if o := order(t, w, 1); o.PromoID != 0 || o.TotalVND != ft.PriceInd1Y {
					t.Errorf("order %+v", o)
				}
			}},

		// ---- inherited info ----
		{name: "order -> subject", setup: withPending("LATER"), ev: btn("next"), want: []string{subject},
			next: func(s *flows.Session) {
				s.State, s.PendingCode, s.Back = flows.StateSubject, "", append(s.Back, flows.StateOrder)
			}},
		{name: "an organization's subject has a tax code, not an ID number", setup: inOrder(ft.CertOrg, ft.PkgOrg1Y, flows.OrderDraft, flows.StateOrder),
			ev: btn("next"), want: []string{subject},
			next: func(s *flows.Session) { s.State, s.Back = flows.StateSubject, []flows.State{flows.StateOrder} }},
		{name: "subject -> invoice", setup: draft(flows.StateSubject, flows.StateOrder), ev: btn("next"),
			want: []string{"block_invoice field_line field_line field_line field_line"},
			next: func(s *flows.Session) { s.State, s.Back = flows.StateInvoice, append(s.Back, flows.StateSubject) }},
		{name: "invoice -> payer", setup: draft(flows.StateInvoice), ev: btn("next"),
			want: []string{"block_payment field_line payment_method_bank"},
			next: func(s *flows.Session) { s.State, s.Back = flows.StatePayer, []flows.State{flows.StateInvoice} }},
		{name: "payer -> confirm", setup: draft(flows.StatePayer), ev: btn("next"),
			want: []string{"order_summary confirm_pay"},
			next: func(s *flows.Session) { s.State, s.Back = flows.StateConfirm, []flows.State{flows.StatePayer} }},
		{name: "edit a field", setup: draft(flows.StateSubject, flows.StateOrder), ev: btn("edit", "subject.email"),
			want: []string{"ask_field"},
			next: func(s *flows.Session) {
				s.State, s.EditField, s.Back = flows.StateEdit, "subject.email", append(s.Back, flows.StateSubject)
			}},
		{name: "edit a field that does not exist", setup: draft(flows.StateSubject), ev: btn("edit", "subject.password"),
			want: []string{"err_unexpected", subject}, refused: true},
		{name: "an invalid value is refused", setup: editing("subject.email"), ev: text("not-an-email"),
			want: []string{"err_email", "ask_field"}, refused: true},
		{name: "a valid value is saved, back to the block", setup: editing("subject.email"), ev: text(" New@Example.com "),
			want: []string{"field_saved", subject},
			next: func(s *flows.Session) {
				s.State, s.EditField, s.Back = flows.StateSubject, "", []flows.State{flows.StateOrder}
			},
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				if o := order(t, w, 1); o.Subject.Email != "new@example.com" {
					t.Errorf("email %q", o.Subject.Email)
				}
			}},
		{name: "an optional tax code is cleared with -", setup: editing("invoice.tax_code"), ev: text("-"),
			want: []string{"field_saved", subject},
			next: func(s *flows.Session) {
				s.State, s.EditField, s.Back = flows.StateSubject, "", []flows.State{flows.StateOrder}
			}},
		{name: "editing a fixed order is refused", setup: func(t *testing.T, w *ft.World) *flows.Session {
			s := inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderAwaitingPayment, flows.StateEdit, flows.StateSubject)(t, w)
			s.EditField = "subject.full_name"
			return s
		}, ev: text("Someone Else"), want: []string{"err_order_fixed", "ask_field"}, refused: true},

		// ---- pay ----
		{name: "Pay: draft -> awaiting_payment, with a transfer", setup: draft(flows.StateConfirm, flows.StatePayer), ev: btn("pay"),
			want: []string{"pay_transfer {transfer}"},
			next: func(s *flows.Session) { s.State, s.Back = flows.StateAwaitPayment, nil },
			check: func(t *testing.T, w *ft.World, out flows.Outcome) {
				o := order(t, w, 1)
				if o.Status != flows.OrderAwaitingPayment {
					t.Errorf("order is %s", o.Status)
				}
				want := flows.Transfer{Bank: ft.Bank, AmountVND: ft.PriceInd1Y, Purpose: "HD000001 GIA HAN CTS"}
				if diff := cmp.Diff(want, *out.Replies[0].Transfer); diff != "" {
					t.Errorf("transfer (-want +got):\n%s", diff)
				}
			}},
		{name: "Pay again on an order already fixed: no second order", setup: inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderAwaitingPayment, flows.StateConfirm, flows.StatePayer),
			ev: btn("pay"), want: []string{"resume_order", "pay_transfer {transfer}"},
			next: func(s *flows.Session) { s.State, s.Back = flows.StateAwaitPayment, nil },
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				if all := w.Orders.All(); len(all) != 1 || all[0].Status != flows.OrderAwaitingPayment {
					t.Errorf("orders %+v", all)
				}
			}},
		{name: "Pay with incomplete info", setup: func(t *testing.T, w *ft.World) *flows.Session {
			s := draft(flows.StateConfirm)(t, w)
			o := order(t, w, s.OrderID)
			o.Invoice.Email = ""
			w.Orders.UpdateDraft(ctx, o)
			return s
		}, ev: btn("pay"), want: []string{"err_info_incomplete", "order_summary confirm_pay"}, refused: true},
		{name: "Pay with a code that ended meanwhile drops it", setup: func(t *testing.T, w *ft.World) *flows.Session {
			s := draft(flows.StateConfirm, flows.StatePayer)(t, w)
			o := order(t, w, s.OrderID)
			o.PromoID, o.PromoCode, o.DiscountVND, o.TotalVND = 4, ft.CodeOld, 25_000, 475_000
			w.Orders.UpdateDraft(ctx, o)
			return s
		}, ev: btn("pay"), want: []string{"code_dropped", "order_summary confirm_pay"},
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				if o := order(t, w, 1); o.Status != flows.OrderDraft || o.PromoID != 0 || o.TotalVND != ft.PriceInd1Y {
					t.Errorf("order %+v", o)
				}
			}},
		{name: "check payment before it landed", setup: inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderAwaitingPayment, flows.StateAwaitPayment),
			ev: btn("checkpay"), want: []string{"not_paid_yet"}},
		{name: "check payment after it landed", setup: inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderPaid, flows.StateAwaitPayment),
			ev: btn("checkpay"), want: []string{"dossier_info dossier_case1"},
			next: func(s *flows.Session) { s.State = flows.StateDossier }},
		{name: "PaymentLanded moves renew_await_payment -> renew_dossier",
			setup: inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderAwaitingPayment, flows.StateAwaitPayment),
			call:  landed(ft.PriceInd1Y), want: []string{"payment_received", "dossier_info dossier_case1"},
			next: func(s *flows.Session) { s.State = flows.StateDossier }},
		{name: "PaymentLanded elsewhere in the conversation: a button, session kept", setup: func(t *testing.T, w *ft.World) *flows.Session {
			w.OrderIn(t, ft.CertIndividual, ft.PkgInd1Y, flows.OrderAwaitingPayment)
			return idle(t, w)
		}, call: landed(ft.PriceInd1Y), want: []string{"payment_received", "continue_dossier"}, refused: true},
		{name: "PaymentLanded underpaid: customer and staff told, session kept",
			setup: inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderAwaitingPayment, flows.StateAwaitPayment),
			call:  landed(100_000), want: []string{"payment_underpaid"}, staff: []string{"staff_underpaid"}, refused: true},

		// ---- dossier: case 1 or case 2 ----
		{name: "case 1: valid individual -> OTP mailed", setup: inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderPaid, flows.StateDossier),
			ev: btn("confirm"), want: []string{"otp_sent", "ask_otp"}, next: func(s *flows.Session) { s.State = flows.StateOTP },
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				if m := w.Mailer.Mails(); len(m) != 1 || m[0].To != ft.CustEmail || w.LastOTP() == "" {
					t.Errorf("mails %+v", m)
				}
			}},
		{name: "case 1: valid organization -> OTP", setup: inOrder(ft.CertOrg, ft.PkgOrg1Y, flows.OrderPaid, flows.StateDossier),
			ev: btn("confirm"), want: []string{"otp_sent", "ask_otp"}, next: func(s *flows.Session) { s.State = flows.StateOTP }},
		{name: "case 2: expired individual -> sign method", setup: inOrder(ft.CertExpired, ft.PkgInd1Y, flows.OrderPaid, flows.StateDossier),
			ev: btn("confirm"), want: []string{"ask_sign_method"},
			next: func(s *flows.Session) { s.State, s.Back = flows.StateSignMethod, []flows.State{flows.StateDossier} }},
		{name: "case 2: valid member_employee -> sign method", setup: inOrder(ft.CertEmployee, ft.PkgEmp1Y, flows.OrderPaid, flows.StateDossier),
			ev: btn("confirm"), want: []string{"ask_sign_method"},
			next: func(s *flows.Session) { s.State, s.Back = flows.StateSignMethod, []flows.State{flows.StateDossier} }},
		{name: "case 2: valid member_manager -> sign method", setup: inOrder(ft.CertManager, ft.PkgMgr1Y, flows.OrderPaid, flows.StateDossier),
			ev: btn("confirm"), want: []string{"ask_sign_method"},
			next: func(s *flows.Session) { s.State, s.Back = flows.StateSignMethod, []flows.State{flows.StateDossier} }},
		{name: "Confirm on an unpaid order is refused", setup: inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderAwaitingPayment, flows.StateDossier),
			ev: btn("confirm"), want: []string{"err_order_state", "dossier_info dossier_case1"}, refused: true},

		// ---- OTP ----
		{name: "OTP wrong", setup: atOTP, evf: func(w *ft.World) flows.Event { return text(wrong(w.LastOTP())) },
			want: []string{"err_otp_wrong", "ask_otp"}, refused: true,
			check: func(t *testing.T, _ *ft.World, out flows.Outcome) {
				if left := out.Replies[0].Texts[0].Data["Left"]; left != flows.OTPAttempts-1 {
					t.Errorf("attempts left %v", left)
				}
			}},
		{name: "OTP not six digits", setup: atOTP, ev: text("12ab56"), want: []string{"err_otp_format", "ask_otp"}, refused: true},
		{name: "OTP right: signed and submitted", setup: atOTP, evf: func(w *ft.World) flows.Event { return text(" " + w.LastOTP()) },
			want: []string{"dossier_submitted", menu}, staff: []string{"staff_dossier_submitted"},
			next: func(s *flows.Session) {
				s.State, s.OrderID, s.CertificateID, s.PackageID, s.Back = flows.StateIdle, 0, 0, 0, nil
			},
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				d, err := w.Orders.Dossier(ctx, 1)
				if o := order(t, w, 1); err != nil || o.Status != flows.OrderSubmitted || d.Method != flows.SignOTP || !d.SignedAt.Equal(ft.Start) {
					t.Errorf("order %s, dossier %+v %v", o.Status, d, err)
				}
			}},
		{name: "OTP expired", setup: func(t *testing.T, w *ft.World) *flows.Session {
			atOTP(t, w)
			w.Clock.Advance(flows.OTPTTL + time.Second)
			return nil
		}, evf: func(w *ft.World) flows.Event { return text(w.LastOTP()) }, want: []string{"err_otp_expired", "ask_otp"}, refused: true},
		{name: "OTP resend within the cooldown", setup: atOTP, ev: btn("resend"),
			want: []string{"err_otp_cooldown", "ask_otp"}, refused: true},
		{name: "OTP resend after the cooldown", setup: func(t *testing.T, w *ft.World) *flows.Session {
			atOTP(t, w)
			w.Clock.Advance(flows.OTPCooldown)
			return nil
		}, ev: btn("resend"), want: []string{"otp_sent", "ask_otp"}},

		// ---- case 2: sign method and uploads ----
		{name: "pick digital signing: the form, then upload", setup: inOrder(ft.CertExpired, ft.PkgInd1Y, flows.OrderPaid, flows.StateSignMethod, flows.StateDossier),
			ev: btn("sign", "digital"), want: []string{"form_digital {file}", "ask_upload_digital"},
			next: func(s *flows.Session) { s.State, s.Back = flows.StateUpload, append(s.Back, flows.StateSignMethod) },
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				if m := w.Mailer.Mails(); len(m) != 1 || len(m[0].Attachments) != 1 {
					t.Errorf("mails %+v", m)
				}
			}},
		{name: "pick an unknown sign method", setup: inOrder(ft.CertExpired, ft.PkgInd1Y, flows.OrderPaid, flows.StateSignMethod),
			ev: btn("sign", "fax"), want: []string{"err_unexpected", "ask_sign_method"}, refused: true},
		{name: "digital: a photo is refused", setup: upload(ft.CertExpired, ft.PkgInd1Y, flows.SignDigital),
			ev: file(flows.InPhoto, "photo1", "", "", 1000), want: []string{"err_need_pdf", "ask_upload_digital"}, refused: true},
		{name: "digital: a non-PDF document is refused", setup: upload(ft.CertExpired, ft.PkgInd1Y, flows.SignDigital),
			ev:   file(flows.InDocument, "doc1", "don.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 1000),
			want: []string{"err_need_pdf", "ask_upload_digital"}, refused: true},
		{name: "digital: a .pdf that is not a PDF is refused", setup: func(t *testing.T, w *ft.World) *flows.Session {
			w.Files.Put("fake", []byte("hello"))
			return upload(ft.CertExpired, ft.PkgInd1Y, flows.SignDigital)(t, w)
		}, ev: file(flows.InDocument, "fake", "don.pdf", "application/pdf", 5), want: []string{"err_need_pdf", "ask_upload_digital"}, refused: true},
		{name: "digital: too big by its declared size", setup: upload(ft.CertExpired, ft.PkgInd1Y, flows.SignDigital),
			ev: file(flows.InDocument, "big", "don.pdf", "application/pdf", flows.MaxUploadBytes+1), want: []string{"err_file_too_big", "ask_upload_digital"}, refused: true},
		{name: "digital: too big when downloaded", setup: func(t *testing.T, w *ft.World) *flows.Session {
			w.Files.Put("huge", append([]byte("%PDF-"), make([]byte, flows.MaxUploadBytes)...))
			return upload(ft.CertExpired, ft.PkgInd1Y, flows.SignDigital)(t, w)
		}, ev: file(flows.InDocument, "huge", "don.pdf", "application/pdf", 100), want: []string{"err_file_too_big", "ask_upload_digital"}, refused: true},
		{name: "digital: a signed PDF is kept", setup: func(t *testing.T, w *ft.World) *flows.Session {
			w.Files.Put("pdf1", ft.PDF)
			return upload(ft.CertExpired, ft.PkgInd1Y, flows.SignDigital)(t, w)
		}, ev: file(flows.InDocument, "pdf1", "don.pdf", "application/pdf", int64(len(ft.PDF))),
			want: []string{"file_received", "ask_upload_digital files_so_far"},
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				d, _ := w.Orders.Dossier(ctx, 1)
				if len(d.Files) != 1 || d.Files[0].Kind != "pdf" || d.Files[0].TelegramFileID != "pdf1" {
					t.Errorf("files %+v", d.Files)
				}
			}},
		{name: "Send dossier without files", setup: upload(ft.CertExpired, ft.PkgInd1Y, flows.SignDigital),
			ev: btn("submit"), want: []string{"err_no_files", "ask_upload_digital"}, refused: true},
		{name: "hand: a photo is kept", setup: func(t *testing.T, w *ft.World) *flows.Session {
			w.Files.Put("jpg1", ft.JPEG)
			return upload(ft.CertEmployee, ft.PkgEmp1Y, flows.SignHand)(t, w)
		}, ev: file(flows.InPhoto, "jpg1", "", "", int64(len(ft.JPEG))), want: []string{"file_received", "ask_upload_hand files_so_far"}},
		{name: "hand: a Word document is refused", setup: upload(ft.CertEmployee, ft.PkgEmp1Y, flows.SignHand),
			ev: file(flows.InDocument, "doc1", "don.docx", "application/msword", 1000), want: []string{"err_need_photo", "ask_upload_hand"}, refused: true},
		{name: "hand: a photo that is not a picture is refused", setup: func(t *testing.T, w *ft.World) *flows.Session {
			w.Files.Put("nope", []byte("GIF89a"))
			return upload(ft.CertEmployee, ft.PkgEmp1Y, flows.SignHand)(t, w)
		}, ev: file(flows.InPhoto, "nope", "", "", 6), want: []string{"err_need_photo", "ask_upload_hand"}, refused: true},
		{name: "hand: Send dossier", setup: upload(ft.CertEmployee, ft.PkgEmp1Y, flows.SignHand, ft.JPEG),
			ev: btn("submit"), want: []string{"dossier_submitted", "keep_paper", menu}, staff: []string{"staff_dossier_submitted"},
			next: func(s *flows.Session) {
				s.State, s.OrderID, s.CertificateID, s.PackageID, s.Back = flows.StateIdle, 0, 0, 0, nil
			},
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				if o := order(t, w, 1); o.Status != flows.OrderSubmitted {
					t.Errorf("order is %s", o.Status)
				}
			}},

		{name: "Send dossier when the order is no longer paid names the order", setup: func(t *testing.T, w *ft.World) *flows.Session {
			s := upload(ft.CertEmployee, ft.PkgEmp1Y, flows.SignHand, ft.JPEG)(t, w)
			w.Orders.Force(s.OrderID, flows.OrderSubmitted)
			return s
		}, ev: btn("submit"), want: []string{"err_order_state", "ask_upload_hand files_so_far"}, refused: true,
			check: func(t *testing.T, _ *ft.World, out flows.Outcome) {
				if ref := out.Replies[0].Texts[0].Data["Ref"]; ref != "HD000001" {
					t.Errorf("Ref = %q, want HD000001", ref)
				}
			}},

		// ---- back, cancel, status, resume ----
		{name: "Back pops the stack", setup: draft(flows.StateSubject, flows.StatePickPackage, flows.StateOrder), ev: btn("back"),
			want: []string{orderPlain},
			next: func(s *flows.Session) { s.State, s.Back = flows.StateOrder, []flows.State{flows.StatePickPackage} }},
		{name: "Back from an edit drops the field", setup: editing("subject.email"), ev: btn("back"),
			want: []string{subject},
			next: func(s *flows.Session) {
				s.State, s.EditField, s.Back = flows.StateSubject, "", []flows.State{flows.StateOrder}
			}},
		{name: "Cancel cancels a draft", setup: withPending("X"), ev: btn("cancel"),
			want: []string{"order_cancelled", "cancelled", menu},
			next: func(s *flows.Session) {
				*s = flows.Session{ChatID: s.ChatID, UserID: s.UserID, Lang: s.Lang, State: flows.StateIdle, CustomerID: ft.Customer}
			},
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				if o := order(t, w, 1); o.Status != flows.OrderCancelled {
					t.Errorf("order is %s", o.Status)
				}
			}},
		{name: "Cancel keeps a paid order", setup: inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderPaid, flows.StateDossier),
			ev: cmd("cancel"), want: []string{"cancelled", menu},
			next: func(s *flows.Session) {
				*s = flows.Session{ChatID: s.ChatID, UserID: s.UserID, Lang: s.Lang, State: flows.StateIdle, CustomerID: ft.Customer}
			},
			check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
				if o := order(t, w, 1); o.Status != flows.OrderPaid {
					t.Errorf("order is %s", o.Status)
				}
			}},
		{name: "/status lists orders", setup: func(t *testing.T, w *ft.World) *flows.Session {
			w.Draft(t, ft.CertIndividual, ft.PkgInd1Y)
			w.OrderIn(t, ft.CertOrg, ft.PkgOrg1Y, flows.OrderAwaitingPayment)
			return idle(t, w)
		}, ev: cmd("status"), want: []string{"orders_header order_line order_line", menu}},
		{name: "Renew resumes a draft", setup: func(t *testing.T, w *ft.World) *flows.Session {
			w.Draft(t, ft.CertIndividual, ft.PkgInd2Y)
			return idle(t, w)
		}, ev: btn("renew", id(ft.CertIndividual)), want: []string{"resume_order", orderPlain},
			next: func(s *flows.Session) {
				s.State, s.CertificateID, s.PackageID, s.OrderID, s.Back = flows.StateOrder, ft.CertIndividual, ft.PkgInd2Y, 1, []flows.State{flows.StatePickPackage}
			}},
		{name: "Renew resumes a paid order at the dossier", setup: func(t *testing.T, w *ft.World) *flows.Session {
			w.OrderIn(t, ft.CertIndividual, ft.PkgInd1Y, flows.OrderPaid)
			return idle(t, w)
		}, ev: btn("renew", id(ft.CertIndividual)), want: []string{"dossier_info dossier_case1"},
			next: func(s *flows.Session) {
				s.State, s.CertificateID, s.PackageID, s.OrderID = flows.StateDossier, ft.CertIndividual, ft.PkgInd1Y, 1
			}},
		{name: "Renew a certificate whose dossier is in review", setup: func(t *testing.T, w *ft.World) *flows.Session {
			w.OrderIn(t, ft.CertIndividual, ft.PkgInd1Y, flows.OrderSubmitted)
			return idle(t, w)
		}, ev: btn("renew", id(ft.CertIndividual)), want: []string{"order_in_review", menu},
			next: func(s *flows.Session) {
				s.CertificateID, s.PackageID, s.OrderID = ft.CertIndividual, ft.PkgInd1Y, 1
			}},
	}
}

func pricelist(cert int64) func(*testing.T, *ft.World) *flows.Session {
	return func(*testing.T, *ft.World) *flows.Session {
		return &flows.Session{State: flows.StatePickPackage, CustomerID: ft.Customer, Lang: "vi", CertificateID: cert}
	}
}

func editing(field string) func(*testing.T, *ft.World) *flows.Session {
	return func(t *testing.T, w *ft.World) *flows.Session {
		s := draft(flows.StateEdit, flows.StateOrder, flows.StateSubject)(t, w)
		s.EditField = field
		return s
	}
}

func applyRefused(code, reason string) row {
	return row{name: "Apply " + code + ": " + reason, setup: withPending(code), ev: btn("apply"),
		want: []string{reason, "order_summary code_pending"}, refused: true,
		check: func(t *testing.T, w *ft.World, _ flows.Outcome) {
			if o := order(t, w, 1); o.PromoID != 0 || o.Version != 1 {
				t.Errorf("a refused code changed the order: %+v", o)
			}
		}}
}

// landed records a bank payment of amount for order 1 and tells the engine.
func landed(amount int64) func(context.Context, *ft.World) (flows.Outcome, error) {
	return func(ctx context.Context, w *ft.World) (flows.Outcome, error) {
		p, o, err := w.Orders.RecordPayment(ctx, flows.Payment{Provider: "bank", TransactionID: "txn-1", OrderRef: "HD000001", AmountVND: amount})
		if err != nil {
			return flows.Outcome{}, err
		}
		return w.Engine.PaymentLanded(ctx, ft.ChatID, p, o)
	}
}

func wrong(code string) string {
	b := []byte(code)
	b[5] = '0' + (b[5]-'0'+1)%10
	return string(b)
}

var ignoreStamps = cmpopts.IgnoreFields(flows.Session{}, "Version", "UpdatedAt", "Schema")

func TestMachine(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range rows() {
		if seen[r.name] {
			t.Fatalf("two rows named %q", r.name)
		}
		seen[r.name] = true
		t.Run(r.name, func(t *testing.T) { runRow(t, r) })
	}
}

func runRow(t *testing.T, r row) {
	w := ft.New()
	chat, user := ft.ChatID, ft.UserID
	if r.chat != 0 {
		chat, user = r.chat, r.chat
	}
	if r.setup != nil {
		if s := r.setup(t, w); s != nil {
			s.ChatID, s.UserID, s.Version = chat, user, seedVersion
			w.Sessions.Seed(*s)
		}
	}
	start, stored := w.Sessions.Get(chat)
	if !stored {
		// What Handle starts a chat without a session with.
		start = flows.Session{Schema: flows.SessionSchema, ChatID: chat, UserID: user, State: flows.StateNew, Lang: "vi"}
	}
	saves := w.Sessions.Saves()

	ev := r.ev
	if r.evf != nil {
		ev = r.evf(w)
	}
	ev.ChatID, ev.UserID = chat, user
	if strings.HasPrefix(string(ev.Input), "btn:") {
		ev.Version = start.Version
		if r.version != 0 {
			ev.Version = r.version
		}
	}
	var out flows.Outcome
	var err error
	if r.call != nil {
		out, err = r.call(ctx, w)
	} else {
		out, err = w.Engine.Handle(ctx, ev)
	}
	if err != nil {
		t.Fatalf("error: %v", err)
	}

	if diff := cmp.Diff(r.want, sums(out.Replies)); diff != "" {
		t.Errorf("replies (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(r.staff, sums(out.Staff), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("staff replies (-want +got):\n%s", diff)
	}

	now, _ := w.Sessions.Get(chat)
	if r.refused {
		if got := w.Sessions.Saves(); got != saves {
			t.Errorf("session saved %d times, want none", got-saves)
		}
		if diff := cmp.Diff(start, out.Session, cmpopts.EquateEmpty()); diff != "" && stored {
			t.Errorf("outcome session changed (-start +got):\n%s", diff)
		}
		if diff := cmp.Diff(start, now, cmpopts.EquateEmpty()); diff != "" && stored {
			t.Errorf("stored session changed (-start +now):\n%s", diff)
		}
	} else {
		if got := w.Sessions.Saves(); got != saves+1 {
			t.Errorf("session saved %d times, want once", got-saves)
		}
		if out.Session.Version != start.Version+1 {
			t.Errorf("version %d, want %d", out.Session.Version, start.Version+1)
		}
		if diff := cmp.Diff(now, out.Session); diff != "" {
			t.Errorf("outcome differs from the stored session (-stored +outcome):\n%s", diff)
		}
		want := start
		want.Back = append([]flows.State(nil), start.Back...)
		if r.next != nil {
			r.next(&want)
		}
		if diff := cmp.Diff(want, out.Session, ignoreStamps, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("next session (-want +got):\n%s", diff)
		}
	}
	if r.check != nil {
		r.check(t, w, out)
	}
}

// A second Pay, pressed on the keyboard of the confirm step after the first
// went through, neither creates nor moves anything.
func TestPayTwice(t *testing.T) {
	w := ft.New()
	s := *draft(flows.StateConfirm, flows.StatePayer)(t, w)
	s.ChatID, s.UserID, s.Version = ft.ChatID, ft.UserID, seedVersion
	w.Sessions.Seed(s)
	pay := flows.Event{ChatID: ft.ChatID, UserID: ft.UserID, Input: flows.Btn("pay"), Version: seedVersion}
	first, err := w.Engine.Handle(ctx, pay)
	if err != nil {
		t.Fatal(err)
	}
	second, err := w.Engine.Handle(ctx, pay)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"btn_expired", "pay_transfer"}, sums(second.Replies)); diff != "" {
		t.Errorf("second Pay (-want +got):\n%s", diff)
	}
	if second.Session.Version != first.Session.Version {
		t.Errorf("the second Pay saved the session")
	}
	all := w.Orders.All()
	if len(all) != 1 || all[0].Status != flows.OrderAwaitingPayment || all[0].Version != 2 {
		t.Errorf("orders after two Pays: %+v", all)
	}
}

func TestStaffCommand(t *testing.T) {
	for _, tc := range []struct {
		name, cmd, args string
		status          flows.OrderStatus // of order HD000001; "" = none
		want            []string
		paid            bool
	}{
		{"/paid on an awaiting order", "paid", "hd000001", flows.OrderAwaitingPayment, []string{"staff_marked_paid"}, true},
		{"/paid on a draft", "paid", "HD000001", flows.OrderDraft, []string{"staff_not_awaiting"}, false},
		{"/paid on a paid order", "paid", "HD000001", flows.OrderPaid, []string{"staff_not_awaiting"}, false},
		{"/paid on an unknown order", "paid", "HD999999", flows.OrderAwaitingPayment, []string{"staff_no_order"}, false},
		{"/paid without a reference", "paid", " ", "", []string{"staff_usage_paid"}, false},
		{"/order", "order", "HD000001", flows.OrderDraft, []string{"staff_order"}, false},
		{"something else", "refund", "HD000001", flows.OrderDraft, []string{"staff_help"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := ft.New()
			if tc.status != "" {
				w.OrderIn(t, ft.CertIndividual, ft.PkgInd1Y, tc.status)
			}
			before := len(w.Orders.Payments())
			res, err := w.Engine.StaffCommand(ctx, 77, tc.cmd, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			var got []string // the first text of each reply: staff texts grow
			for _, r := range res.Replies {
				got = append(got, r.Texts[0].ID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("replies (-want +got):\n%s", diff)
			}
			if got := res.Payment != nil; got != tc.paid {
				t.Fatalf("payment announced: %v, want %v", got, tc.paid)
			}
			if !tc.paid {
				if n := len(w.Orders.Payments()); n != before {
					t.Errorf("%d payments recorded", n-before)
				}
				return
			}
			if res.Payment.Status != flows.PaymentMatched || res.Order.Status != flows.OrderPaid || order(t, w, 1).Status != flows.OrderPaid {
				t.Errorf("payment %s, order %s", res.Payment.Status, res.Order.Status)
			}
			if a := w.Audit.Entries(); len(a) != 1 || a[0].Action != "mark_paid" || a[0].Actor != "staff:77" {
				t.Errorf("audit %+v", a)
			}
		})
	}
}

// statePrompts is the first text of every state's prompt. TestEveryState
// checks that it lists every State constant declared in the package.
var statePrompts = map[flows.State]string{
	flows.StateNew:          "ask_contact",
	flows.StateAwaitContact: "ask_contact",
	flows.StateIdle:         "menu",
	flows.StatePickCert:     "pick_cert",
	flows.StatePickPackage:  "pick_package",
	flows.StateOrder:        "order_summary",
	flows.StateSubject:      "block_subject",
	flows.StateInvoice:      "block_invoice",
	flows.StatePayer:        "block_payment",
	flows.StateEdit:         "ask_field",
	flows.StateConfirm:      "order_summary",
	flows.StateAwaitPayment: "pay_transfer",
	flows.StateDossier:      "dossier_info",
	flows.StateOTP:          "ask_otp",
	flows.StateSignMethod:   "ask_sign_method",
	flows.StateUpload:       "ask_upload_hand",
}

// declaredStates finds the package's constants of type State in its source.
func declaredStates(t *testing.T) map[flows.State]string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[flows.State]string{}
	for _, f := range pkgs["flows"].Files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "State" {
					continue
				}
				for i, name := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok {
						t.Fatalf("state %s is not a literal", name.Name)
					}
					v, _ := strconv.Unquote(lit.Value)
					out[flows.State(v)] = name.Name
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("found no State constants")
	}
	return out
}

// Every declared state parses back, is in statePrompts, and has a prompt of
// its own: an input it does not take shows that prompt (a state without one
// would fall back to the menu).
func TestEveryState(t *testing.T) {
	declared := declaredStates(t)
	for st, name := range declared {
		if got, err := flows.ParseState(string(st)); err != nil || got != st {
			t.Errorf("ParseState(%q) [%s] = %q, %v", st, name, got, err)
		}
		if _, ok := statePrompts[st]; !ok {
			t.Errorf("state %s (%s) is missing from statePrompts", st, name)
		}
	}
	for st := range statePrompts {
		if _, ok := declared[st]; !ok {
			t.Errorf("statePrompts lists %s, which is not declared", st)
		}
	}
	for _, bad := range []string{"", "Idle", " idle", "idle ", "renew", "renew_nowhere", "btn:next"} {
		if st, err := flows.ParseState(bad); !flows.IsCode(err, flows.Invalid) {
			t.Errorf("ParseState(%q) = %q, %v; want Invalid", bad, st, err)
		}
	}

	for st, first := range statePrompts {
		t.Run(string(st), func(t *testing.T) {
			w := ft.New()
			s := sessionIn(t, w, st)
			s.ChatID, s.UserID, s.Version = ft.ChatID, ft.UserID, seedVersion
			w.Sessions.Seed(s)
			out, err := w.Engine.Handle(ctx, flows.Event{ChatID: ft.ChatID, UserID: ft.UserID, Input: flows.InOther})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Replies) != 2 || sum(out.Replies[0]) != "err_unexpected_file" || len(out.Replies[1].Texts) == 0 {
				t.Fatalf("replies %v", sums(out.Replies))
			}
			if got := out.Replies[1].Texts[0].ID; got != first {
				t.Errorf("prompt starts with %s, want %s", got, first)
			}
			if out.Session.Version != seedVersion || out.Session.State != st {
				t.Errorf("session moved: %s v%d", out.Session.State, out.Session.Version)
			}
		})
	}
}

// sessionIn sets up the world so that state's prompt has what it shows.
func sessionIn(t *testing.T, w *ft.World, st flows.State) flows.Session {
	base := flows.Session{State: st, CustomerID: ft.Customer, Lang: "vi"}
	switch st {
	case flows.StateNew, flows.StateAwaitContact:
		base.CustomerID = 0
	case flows.StateIdle, flows.StatePickCert:
	case flows.StatePickPackage:
		base.CertificateID = ft.CertIndividual
	case flows.StateAwaitPayment:
		return *inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderAwaitingPayment, st)(t, w)
	case flows.StateDossier, flows.StateOTP, flows.StateSignMethod:
		return *inOrder(ft.CertIndividual, ft.PkgInd1Y, flows.OrderPaid, st)(t, w)
	case flows.StateUpload:
		return *upload(ft.CertExpired, ft.PkgInd1Y, flows.SignHand)(t, w)
	case flows.StateEdit:
		return *editing("subject.email")(t, w)
	default:
		return *draft(st)(t, w)
	}
	return base
}
