package flows

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// The renewal conversation (SPEC "The renewal, step by step").
const (
	StatePickCert     State = "renew_cert"          // several certificates: pick one
	StatePickPackage  State = "renew_package"       // the price list
	StateOrder        State = "renew_order"         // order summary, discount code
	StateSubject      State = "renew_subject"       // check inherited subject info
	StateInvoice      State = "renew_invoice"       // check inherited invoice info
	StatePayer        State = "renew_payer"         // check payment info
	StateEdit         State = "renew_edit"          // typing a new value for EditField
	StateConfirm      State = "renew_confirm"       // final summary, Pay
	StateAwaitPayment State = "renew_await_payment" // VietQR shown
	StateDossier      State = "renew_dossier"       // dossier information, Confirm
	StateOTP          State = "renew_otp"           // case 1: one-time code from email
	StateSignMethod   State = "renew_sign_method"   // case 2: hand-signed or digital
	StateUpload       State = "renew_upload"        // case 2: photos or signed PDF
)

// Limits of the dossier step.
const (
	MaxUploadBytes  = 20 << 20 // Telegram's getFile limit
	MaxDossierFiles = 10
	OTPTTL          = 10 * time.Minute
	OTPCooldown     = 60 * time.Second
	OTPAttempts     = 5
)

func renewalRows() []row {
	return []row{
		{StatePickCert, map[Input]step{}, (*Engine).promptPickCert},
		{StatePickPackage, map[Input]step{Btn("pkg"): (*Engine).pickPackage}, (*Engine).promptPackages},
		{StateOrder, map[Input]step{
			InText:        (*Engine).typeCode,
			Btn("apply"):  (*Engine).applyCode,
			Btn("rmcode"): (*Engine).removeCode,
			Btn("next"):   nextTo(StateSubject),
		}, (*Engine).promptOrder},
		{StateSubject, map[Input]step{Btn("edit"): (*Engine).editField, Btn("next"): nextTo(StateInvoice)}, blockPrompt("subject")},
		{StateInvoice, map[Input]step{Btn("edit"): (*Engine).editField, Btn("next"): nextTo(StatePayer)}, blockPrompt("invoice")},
		{StatePayer, map[Input]step{Btn("edit"): (*Engine).editField, Btn("next"): nextTo(StateConfirm)}, blockPrompt("payment")},
		{StateEdit, map[Input]step{InText: (*Engine).fieldTyped}, (*Engine).promptEdit},
		{StateConfirm, map[Input]step{Btn("pay"): (*Engine).pay}, (*Engine).promptConfirm},
		{StateAwaitPayment, map[Input]step{Btn("checkpay"): (*Engine).checkPaid}, (*Engine).promptAwaitPayment},
		{StateDossier, map[Input]step{Btn("confirm"): (*Engine).confirmDossier}, (*Engine).promptDossier},
		{StateOTP, map[Input]step{InText: (*Engine).otpTyped, Btn("resend"): (*Engine).resendOTP}, (*Engine).promptOTP},
		{StateSignMethod, map[Input]step{Btn("sign"): (*Engine).pickSignMethod}, (*Engine).promptSignMethod},
		{StateUpload, map[Input]step{
			InPhoto:       (*Engine).upload,
			InDocument:    (*Engine).upload,
			Btn("submit"): (*Engine).submitDossier,
		}, (*Engine).promptUpload},
	}
}

func init() {
	everywhere[Cmd("renew")] = linked((*Engine).renew)
	everywhere[Btn("renew")] = linked((*Engine).renew)
	everywhere[Cmd("status")] = linked((*Engine).status)
	everywhere[Btn("status")] = linked((*Engine).status)
}

// ---- entry and certificate ----

// renew starts (or resumes) a renewal: for the certificate named by the
// button, the only certificate, or one the customer picks.
func (e *Engine) renew(ctx context.Context, t *turn) error {
	t.S.Back, t.S.PendingCode, t.S.EditField = nil, "", ""
	if len(t.Ev.Args) == 1 {
		c, err := e.ownCert(ctx, t.S, t.Ev.Args[0])
		if err != nil {
			return err
		}
		return e.startRenewal(ctx, t, c)
	}
	certs, err := e.d.Certificates.CertificatesOf(ctx, t.S.CustomerID)
	if err != nil {
		return err
	}
	switch len(certs) {
	case 0:
		t.say(Say("no_certs"))
		return e.menu(ctx, t)
	case 1:
		return e.startRenewal(ctx, t, certs[0])
	}
	return e.enter(ctx, t, StatePickCert, false)
}

// ownCert parses a certificate id from callback data and checks that it
// belongs to the chat's customer.
func (e *Engine) ownCert(ctx context.Context, s *Session, arg string) (Certificate, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return Certificate{}, refuse("err_not_yours")
	}
	c, err := e.d.Certificates.Certificate(ctx, id)
	if IsCode(err, NotFound) || (err == nil && c.CustomerID != s.CustomerID) {
		return Certificate{}, refuse("err_not_yours")
	}
	return c, err
}

func (e *Engine) promptPickCert(ctx context.Context, s *Session) (Reply, error) {
	certs, err := e.d.Certificates.CertificatesOf(ctx, s.CustomerID)
	if err != nil {
		return Reply{}, err
	}
	now := e.d.Clock.Now()
	r := Reply{Texts: []Text{T("pick_cert")}}
	for _, c := range certs {
		r.Texts = append(r.Texts, e.certLine(c, now))
		r.Buttons = append(r.Buttons, []Button{{Label: T("btn_renew_cert", "Serial", c.Serial), Action: "renew", Args: []string{fmt.Sprint(c.ID)}}})
	}
	r.Buttons = append(r.Buttons, nav(false))
	return r, nil
}

// startRenewal resumes the certificate's open order at the step its status
// says, or shows the price list.
func (e *Engine) startRenewal(ctx context.Context, t *turn, c Certificate) error {
	t.S.CertificateID, t.S.PackageID, t.S.OrderID = c.ID, 0, 0
	o, err := e.d.Orders.OpenOrder(ctx, c.ID)
	if IsCode(err, NotFound) {
		return e.enter(ctx, t, StatePickPackage, false)
	}
	if err != nil {
		return err
	}
	t.S.OrderID, t.S.PackageID = o.ID, o.PackageID
	t.S.Back = []State{StatePickPackage}
	switch o.Status {
	case OrderDraft:
		t.say(Say("resume_order", "Ref", o.Ref))
		return e.enter(ctx, t, StateOrder, false)
	case OrderAwaitingPayment:
		t.S.Back = nil
		t.say(Say("resume_order", "Ref", o.Ref))
		return e.enter(ctx, t, StateAwaitPayment, false)
	case OrderPaid:
		t.S.Back = nil
		return e.enterDossier(ctx, t, o)
	case OrderRejected:
		t.S.Back = nil
		d, err := e.d.Orders.Dossier(ctx, o.ID)
		if err != nil && !IsCode(err, NotFound) {
			return err
		}
		t.say(Say("dossier_rejected", "Ref", o.Ref, "Reason", d.RejectReason))
		if c.Expired(e.d.Clock.Now()) || c.Type.IsMember() {
			return e.enter(ctx, t, StateSignMethod, false)
		}
		return e.enter(ctx, t, StateDossier, false)
	default: // submitted
		t.S.Back = nil
		t.say(Say("order_in_review", "Ref", o.Ref))
		return e.menu(ctx, t)
	}
}

// ---- package ----

func (e *Engine) promptPackages(ctx context.Context, s *Session) (Reply, error) {
	c, err := e.d.Certificates.Certificate(ctx, s.CertificateID)
	if err != nil {
		return Reply{}, err
	}
	pkgs, err := e.d.Catalog.Packages(ctx, c.Type)
	if err != nil {
		return Reply{}, err
	}
	now := e.d.Clock.Now()
	r := Reply{Texts: []Text{T("pick_package", "Serial", c.Serial, "Type", T("type_"+string(c.Type))), e.certLine(c, now)}}
	if len(pkgs) == 0 {
		r.Texts = append(r.Texts, T("no_packages"))
	}
	for _, p := range pkgs {
		r.Buttons = append(r.Buttons, []Button{{Label: T("btn_package", "Name", p.Name, "Years", yearsText(p.Months), "Price", Money(p.PriceVND)), Action: "pkg", Args: []string{fmt.Sprint(p.ID)}}})
	}
	r.Buttons = append(r.Buttons, nav(false))
	return r, nil
}

func yearsText(months int) Text {
	if months%12 == 0 {
		return T("years", "N", months/12)
	}
	return T("months", "N", months)
}

func (e *Engine) pickPackage(ctx context.Context, t *turn) error {
	c, err := e.d.Certificates.Certificate(ctx, t.S.CertificateID)
	if err != nil {
		return err
	}
	if len(t.Ev.Args) != 1 {
		return refuse("err_unexpected")
	}
	id, err := strconv.ParseInt(t.Ev.Args[0], 10, 64)
	if err != nil {
		return refuse("err_unexpected")
	}
	p, err := e.d.Catalog.Package(ctx, id)
	if IsCode(err, NotFound) || (err == nil && (p.CertType != c.Type || !p.Active)) {
		return refuse("err_package_unavailable")
	}
	if err != nil {
		return err
	}
	o, err := e.draftFor(ctx, t.S, c, p)
	if err != nil {
		return err
	}
	t.S.PackageID, t.S.OrderID = p.ID, o.ID
	return e.enter(ctx, t, StateOrder, true)
}

// draftFor creates the certificate's draft order for package p, or switches
// the existing draft to p (dropping a code that may not apply to it).
func (e *Engine) draftFor(ctx context.Context, s *Session, c Certificate, p Package) (Order, error) {
	o, err := e.d.Orders.OpenOrder(ctx, c.ID)
	switch {
	case err == nil && o.Status == OrderDraft:
		o.PackageID, o.PriceVND, o.DiscountVND, o.TotalVND = p.ID, p.PriceVND, 0, p.PriceVND
		o.PromoID, o.PromoCode = 0, ""
		return e.d.Orders.UpdateDraft(ctx, o)
	case err == nil:
		return Order{}, refuse("err_order_exists", "Ref", o.Ref)
	case !IsCode(err, NotFound):
		return Order{}, err
	}
	o = Order{CustomerID: s.CustomerID, CertificateID: c.ID, PackageID: p.ID, Status: OrderDraft,
		PriceVND: p.PriceVND, TotalVND: p.PriceVND}
	if err := e.inherit(ctx, &o, c); err != nil {
		return Order{}, err
	}
	o, err = e.d.Orders.CreateOrder(ctx, o)
	if IsCode(err, Conflict) {
		// A double tap raced us: use the order the other tap created.
		return e.d.Orders.OpenOrder(ctx, c.ID)
	}
	return o, err
}

// inherit copies subject, invoice and payment info from the customer's
// previous order, or from the customer record.
func (e *Engine) inherit(ctx context.Context, o *Order, c Certificate) error {
	prev, err := e.d.Orders.LatestOrderOf(ctx, o.CustomerID)
	if err == nil {
		o.Subject, o.Invoice, o.Payment = prev.Subject, prev.Invoice, prev.Payment
		return nil
	}
	if !IsCode(err, NotFound) {
		return err
	}
	cu, err := e.d.Customers.Customer(ctx, o.CustomerID)
	if err != nil {
		return err
	}
	o.Subject = SubjectInfo{FullName: cu.Name, IDNumber: cu.IDNumber, TaxCode: cu.TaxCode, Address: cu.Address, Email: cu.Email, Phone: cu.Phone}
	o.Invoice = InvoiceInfo{Name: cu.Name, TaxCode: cu.TaxCode, Address: cu.Address, Email: cu.Email}
	o.Payment = PaymentInfo{Method: "bank_transfer", PayerName: cu.Name}
	if c.Type == Organization {
		o.Subject.IDNumber = ""
	} else {
		o.Subject.TaxCode = "" // a person's certificate names the person, not a company
	}
	return nil
}

// ---- order summary and codes ----

func (e *Engine) order(ctx context.Context, s *Session) (Order, Certificate, Package, error) {
	o, err := e.d.Orders.Order(ctx, s.OrderID)
	if err != nil {
		return o, Certificate{}, Package{}, err
	}
	if o.CustomerID != s.CustomerID {
		return o, Certificate{}, Package{}, Errorf(Unauthorized, "order %d is not customer %d's", o.ID, s.CustomerID)
	}
	c, err := e.d.Certificates.Certificate(ctx, o.CertificateID)
	if err != nil {
		return o, c, Package{}, err
	}
	p, err := e.d.Catalog.Package(ctx, o.PackageID)
	return o, c, p, err
}

// summary describes an order: package, price, discount, total, new expiry.
func (e *Engine) summary(o Order, c Certificate, p Package) Text {
	now := e.d.Clock.Now()
	exp := NewExpiry(c.NotAfter, now, p.Months, e.d.Loc)
	return T("order_summary", "Ref", o.Ref, "Package", p.Name, "Years", yearsText(p.Months), "Serial", c.Serial,
		"Price", Money(o.PriceVND), "Code", o.PromoCode, "Discount", Money(o.DiscountVND), "Total", Money(o.TotalVND),
		"NewExpiry", exp.Format("02/01/2006"), "Carried", CarriedDays(c.NotAfter, now, e.d.Loc))
}

func (e *Engine) promptOrder(ctx context.Context, s *Session) (Reply, error) {
	o, c, p, err := e.order(ctx, s)
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Texts: []Text{e.summary(o, c, p)}}
	switch {
	case s.PendingCode != "":
		r.Texts = append(r.Texts, T("code_pending", "Code", s.PendingCode))
		r.Buttons = append(r.Buttons, []Button{{Label: T("btn_apply", "Code", s.PendingCode), Action: "apply"}})
	case o.PromoCode != "":
		r.Buttons = append(r.Buttons, []Button{{Label: T("btn_remove_code", "Code", o.PromoCode), Action: "rmcode"}})
	default:
		r.Texts = append(r.Texts, T("code_hint"))
	}
	r.Buttons = append(r.Buttons, []Button{{Label: T("btn_check_info"), Action: "next"}}, nav(true))
	return r, nil
}

func (e *Engine) typeCode(ctx context.Context, t *turn) error {
	code, ok := NormalizeCode(t.Ev.Text)
	if !ok {
		return refuse("err_code_format", "Max", maxCodeLen)
	}
	t.S.PendingCode = code
	return e.enter(ctx, t, StateOrder, false)
}

func (e *Engine) applyCode(ctx context.Context, t *turn) error {
	if t.S.PendingCode == "" {
		return refuse("code_hint")
	}
	o, _, p, err := e.order(ctx, t.S)
	if err != nil {
		return err
	}
	promo, err := e.d.Catalog.PromoByCode(ctx, t.S.PendingCode)
	if IsCode(err, NotFound) {
		return refuse("err_code_unknown", "Code", t.S.PendingCode)
	}
	if err != nil {
		return err
	}
	uses, err := e.d.Catalog.PromoUsesBy(ctx, promo.ID, t.S.CustomerID)
	if err != nil {
		return err
	}
	discount, reason := CheckPromo(promo, p, e.d.Clock.Now(), uses)
	if reason != "" {
		return refuse(reason, "Code", promo.Code)
	}
	if discount >= o.PriceVND {
		// A bank transfer of 0 ₫ cannot pay the order: such codes go through staff.
		return refuse("err_code_total_zero", "Code", promo.Code)
	}
	o.PromoID, o.PromoCode, o.DiscountVND, o.TotalVND = promo.ID, promo.Code, discount, o.PriceVND-discount
	if _, err := e.d.Orders.UpdateDraft(ctx, o); err != nil {
		return err
	}
	t.S.PendingCode = ""
	t.say(Say("code_applied", "Code", promo.Code, "Discount", Money(discount)))
	return e.enter(ctx, t, StateOrder, false)
}

func (e *Engine) removeCode(ctx context.Context, t *turn) error {
	o, _, _, err := e.order(ctx, t.S)
	if err != nil {
		return err
	}
	o.PromoID, o.PromoCode, o.DiscountVND, o.TotalVND = 0, "", 0, o.PriceVND
	if _, err := e.d.Orders.UpdateDraft(ctx, o); err != nil {
		return err
	}
	t.S.PendingCode = ""
	t.say(Say("code_removed"))
	return e.enter(ctx, t, StateOrder, false)
}

func nextTo(to State) step {
	return func(e *Engine, ctx context.Context, t *turn) error {
		t.S.PendingCode = ""
		return e.enter(ctx, t, to, true)
	}
}

// ---- inherited information ----

// infoField is one editable field of the inherited information.
type infoField struct {
	key   string // "subject.email"
	check func(string) string
	get   func(*Order) *string
	norm  func(string) string
}

var infoFields = []infoField{
	{"subject.full_name", textCheck(120), func(o *Order) *string { return &o.Subject.FullName }, strings.TrimSpace},
	{"subject.id_number", CheckIDNumber, func(o *Order) *string { return &o.Subject.IDNumber }, strings.TrimSpace},
	{"subject.tax_code", CheckTaxCode, func(o *Order) *string { return &o.Subject.TaxCode }, normTax},
	{"subject.address", textCheck(250), func(o *Order) *string { return &o.Subject.Address }, strings.TrimSpace},
	{"subject.email", CheckEmail, func(o *Order) *string { return &o.Subject.Email }, normEmail},
	{"subject.phone", CheckPhone, func(o *Order) *string { return &o.Subject.Phone }, normPhone},
	{"invoice.name", textCheck(200), func(o *Order) *string { return &o.Invoice.Name }, strings.TrimSpace},
	{"invoice.tax_code", optional(CheckTaxCode), func(o *Order) *string { return &o.Invoice.TaxCode }, normOptionalTax},
	{"invoice.address", textCheck(250), func(o *Order) *string { return &o.Invoice.Address }, strings.TrimSpace},
	{"invoice.email", CheckEmail, func(o *Order) *string { return &o.Invoice.Email }, normEmail},
	{"payment.payer_name", textCheck(120), func(o *Order) *string { return &o.Payment.PayerName }, strings.TrimSpace},
}

// optional accepts an empty value, or "-" to clear the field (a person's
// VAT invoice needs no tax code).
func optional(check func(string) string) func(string) string {
	return func(s string) string {
		if s = strings.TrimSpace(s); s == "" || s == "-" {
			return ""
		}
		return check(s)
	}
}

func normOptionalTax(s string) string {
	if s = strings.TrimSpace(s); s == "-" {
		return ""
	}
	return normTax(s)
}

func textCheck(max int) func(string) string {
	return func(s string) string { return CheckText(s, max) }
}
func normTax(s string) string   { v, _ := NormalizeTaxCode(s); return v }
func normPhone(s string) string { v, _ := NormalizePhone(s); return v }
func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func fieldByKey(key string) (infoField, bool) {
	for _, f := range infoFields {
		if f.key == key {
			return f, true
		}
	}
	return infoField{}, false
}

// blockFields lists the fields of a block that apply to the certificate type
// (a person has an ID number, an organization a tax code).
func blockFields(block string, t CertType) []infoField {
	var out []infoField
	for _, f := range infoFields {
		if !strings.HasPrefix(f.key, block+".") {
			continue
		}
		if (f.key == "subject.id_number" && t == Organization) || (f.key == "subject.tax_code" && t != Organization) {
			continue
		}
		out = append(out, f)
	}
	return out
}

func blockPrompt(block string) func(*Engine, context.Context, *Session) (Reply, error) {
	return func(e *Engine, ctx context.Context, s *Session) (Reply, error) {
		o, c, _, err := e.order(ctx, s)
		if err != nil {
			return Reply{}, err
		}
		r := Reply{Texts: []Text{T("block_" + block)}}
		var row []Button
		for _, f := range blockFields(block, c.Type) {
			v := *f.get(&o)
			if v == "" {
				v = "—"
			}
			r.Texts[0].Data = nil
			r.Texts = append(r.Texts, T("field_line", "Label", T("field_"+f.key), "Value", v))
			row = append(row, Button{Label: T("btn_edit", "Label", T("field_"+f.key)), Action: "edit", Args: []string{f.key}})
			if len(row) == 2 {
				r.Buttons = append(r.Buttons, row)
				row = nil
			}
		}
		if block == "payment" {
			r.Texts = append(r.Texts, T("payment_method_bank"))
		}
		if row != nil {
			r.Buttons = append(r.Buttons, row)
		}
		r.Buttons = append(r.Buttons, []Button{{Label: T("btn_info_ok"), Action: "next"}}, nav(true))
		return r, nil
	}
}

func (e *Engine) editField(ctx context.Context, t *turn) error {
	if len(t.Ev.Args) != 1 {
		return refuse("err_unexpected")
	}
	if _, ok := fieldByKey(t.Ev.Args[0]); !ok {
		return refuse("err_unexpected")
	}
	t.S.EditField = t.Ev.Args[0]
	return e.enter(ctx, t, StateEdit, true)
}

func (e *Engine) promptEdit(ctx context.Context, s *Session) (Reply, error) {
	o, _, _, err := e.order(ctx, s)
	if err != nil {
		return Reply{}, err
	}
	f, ok := fieldByKey(s.EditField)
	if !ok {
		return Reply{}, Errorf(Internal, "edit of unknown field %q", s.EditField)
	}
	return Reply{Texts: []Text{T("ask_field", "Label", T("field_"+f.key), "Current", *f.get(&o))}, Buttons: [][]Button{nav(true)}}, nil
}

func (e *Engine) fieldTyped(ctx context.Context, t *turn) error {
	f, ok := fieldByKey(t.S.EditField)
	if !ok {
		return Errorf(Internal, "edit of unknown field %q", t.S.EditField)
	}
	if msg := f.check(t.Ev.Text); msg != "" {
		return refuse(msg)
	}
	o, _, _, err := e.order(ctx, t.S)
	if err != nil {
		return err
	}
	if o.Status != OrderDraft {
		return refuse("err_order_fixed", "Ref", o.Ref)
	}
	*f.get(&o) = f.norm(t.Ev.Text)
	if _, err := e.d.Orders.UpdateDraft(ctx, o); err != nil {
		return err
	}
	t.say(Say("field_saved", "Label", T("field_"+f.key)))
	return e.back(ctx, t)
}

// ---- confirm and pay ----

func (e *Engine) promptConfirm(ctx context.Context, s *Session) (Reply, error) {
	o, c, p, err := e.order(ctx, s)
	if err != nil {
		return Reply{}, err
	}
	return Reply{
		Texts:   []Text{e.summary(o, c, p), T("confirm_pay")},
		Buttons: [][]Button{{{Label: T("btn_pay", "Total", Money(o.TotalVND)), Action: "pay"}}, nav(true)},
	}, nil
}

func (e *Engine) pay(ctx context.Context, t *turn) error {
	o, c, p, err := e.order(ctx, t.S)
	if err != nil {
		return err
	}
	if o.Status != OrderDraft {
		// Already fixed (a double tap on another keyboard): show where it is.
		return e.startRenewal(ctx, t, c)
	}
	for _, f := range blockFields("subject", c.Type) {
		if msg := f.check(*f.get(&o)); msg != "" {
			return refuse("err_info_incomplete", "Label", T("field_"+f.key))
		}
	}
	for _, f := range append(blockFields("invoice", c.Type), blockFields("payment", c.Type)...) {
		if msg := f.check(*f.get(&o)); msg != "" {
			return refuse("err_info_incomplete", "Label", T("field_"+f.key))
		}
	}
	if o.PromoID != 0 {
		// The code must still hold when the order is fixed.
		promo, err := e.d.Catalog.PromoByCode(ctx, o.PromoCode)
		if err != nil && !IsCode(err, NotFound) {
			return err
		}
		uses, err := e.d.Catalog.PromoUsesBy(ctx, o.PromoID, o.CustomerID)
		if err != nil {
			return err
		}
		if _, reason := CheckPromo(promo, p, e.d.Clock.Now(), uses); reason != "" || promo.ID != o.PromoID {
			o.PromoID, o.PromoCode, o.DiscountVND, o.TotalVND = 0, "", 0, o.PriceVND
			if _, err := e.d.Orders.UpdateDraft(ctx, o); err != nil {
				return err
			}
			t.say(Say("code_dropped"))
			return e.enter(ctx, t, StateConfirm, false)
		}
	}
	if _, err := e.d.Orders.SetOrderStatus(ctx, o.ID, OrderDraft, OrderAwaitingPayment); err != nil {
		if IsCode(err, Conflict) {
			return e.startRenewal(ctx, t, c)
		}
		return err
	}
	t.S.Back = nil
	return e.enter(ctx, t, StateAwaitPayment, false)
}

// TransferPurpose is the transfer description the bank carries back to us.
func TransferPurpose(ref string) string { return ref + " GIA HAN CTS" }

func (e *Engine) promptAwaitPayment(ctx context.Context, s *Session) (Reply, error) {
	o, _, _, err := e.order(ctx, s)
	if err != nil {
		return Reply{}, err
	}
	b := e.d.Bank
	return Reply{
		Transfer: &Transfer{Bank: b, AmountVND: o.TotalVND, Purpose: TransferPurpose(o.Ref)},
		Texts: []Text{T("pay_transfer", "Ref", o.Ref, "Total", Money(o.TotalVND), "Bank", b.BankName,
			"Account", b.Number, "Holder", b.Name, "Purpose", TransferPurpose(o.Ref))},
		Buttons: [][]Button{{{Label: T("btn_check_paid"), Action: "checkpay"}}, nav(false)},
	}, nil
}

func (e *Engine) checkPaid(ctx context.Context, t *turn) error {
	o, _, _, err := e.order(ctx, t.S)
	if err != nil {
		return err
	}
	if o.Status == OrderAwaitingPayment {
		t.say(Say("not_paid_yet", "Ref", o.Ref))
		return nil
	}
	c, err := e.d.Certificates.Certificate(ctx, o.CertificateID)
	if err != nil {
		return err
	}
	return e.startRenewal(ctx, t, c)
}

// PaymentLanded tells the chat of an order's customer that a transfer
// arrived, and moves the conversation on to the dossier when it was waiting
// for it. The caller holds the chat's lock (bot.Adapter.Push).
func (e *Engine) PaymentLanded(ctx context.Context, chatID int64, p Payment, o Order) (Outcome, error) {
	s, err := e.d.Sessions.LoadSession(ctx, chatID)
	if IsCode(err, NotFound) {
		s = Session{Schema: SessionSchema, ChatID: chatID, State: StateIdle, CustomerID: o.CustomerID, Lang: "vi"}
		if l, lerr := e.d.Customers.LinkByChat(ctx, chatID); lerr == nil && l.Lang != "" {
			s.Lang = l.Lang
		}
	} else if err != nil {
		return Outcome{}, err
	}
	t := &turn{S: &s}
	if p.Status == PaymentUnderpaid {
		t.say(Say("payment_underpaid", "Ref", o.Ref, "Paid", Money(p.AmountVND), "Total", Money(o.TotalVND)))
		t.staff(Say("staff_underpaid", "Ref", o.Ref, "Paid", Money(p.AmountVND), "Total", Money(o.TotalVND), "Txn", p.TransactionID))
		return Outcome{Session: s, Replies: t.Replies, Staff: t.Staff}, nil
	}
	t.say(Say("payment_received", "Ref", o.Ref, "Amount", Money(p.AmountVND)))
	if s.OrderID == o.ID && s.CustomerID == o.CustomerID {
		if err := e.enterDossier(ctx, t, o); err != nil {
			return Outcome{}, err
		}
		saved, err := e.d.Sessions.SaveSession(ctx, s)
		if err != nil {
			return Outcome{}, err
		}
		return Outcome{Session: saved, Replies: t.Replies, Staff: t.Staff}, nil
	}
	t.say(Reply{Texts: []Text{T("continue_dossier", "Ref", o.Ref)}, Buttons: [][]Button{{{Label: T("btn_continue", "Ref", o.Ref), Action: "renew", Args: []string{fmt.Sprint(o.CertificateID)}}}}})
	return Outcome{Session: s, Replies: t.Replies}, nil
}

// UnmatchedPayment is the staff notice of a transfer that names no order
// awaiting payment: staff must find its owner or refund it.
func UnmatchedPayment(p Payment) Reply {
	return Say("staff_unmatched", "Ref", p.OrderRef, "Amount", Money(p.AmountVND), "Txn", p.TransactionID)
}

// ---- dossier ----

// case1 reports whether the seed's case 1 applies: the certificate is still
// valid and not a member (manager/employee) certificate.
func case1(c Certificate, now time.Time) bool { return !c.Expired(now) && !c.Type.IsMember() }

func (e *Engine) enterDossier(ctx context.Context, t *turn, o Order) error {
	t.S.OrderID, t.S.CertificateID, t.S.PackageID, t.S.Back = o.ID, o.CertificateID, o.PackageID, nil
	d, err := e.d.Orders.Dossier(ctx, o.ID)
	if err == nil && d.Method != "" && d.Method != SignOTP {
		return e.enter(ctx, t, StateUpload, false)
	}
	if err != nil && !IsCode(err, NotFound) {
		return err
	}
	return e.enter(ctx, t, StateDossier, false)
}

func (e *Engine) promptDossier(ctx context.Context, s *Session) (Reply, error) {
	o, c, p, err := e.order(ctx, s)
	if err != nil {
		return Reply{}, err
	}
	now := e.d.Clock.Now()
	info := T("dossier_info", "Ref", o.Ref, "Name", o.Subject.FullName, "Type", T("type_"+string(c.Type)), "Serial", c.Serial,
		"Package", p.Name, "NewExpiry", NewExpiry(c.NotAfter, now, p.Months, e.d.Loc).Format("02/01/2006"))
	how := "dossier_case1"
	if !case1(c, now) {
		how = "dossier_case2"
	}
	return Reply{Texts: []Text{info, T(how)}, Buttons: [][]Button{{{Label: T("btn_confirm"), Action: "confirm"}}, nav(false)}}, nil
}

func (e *Engine) confirmDossier(ctx context.Context, t *turn) error {
	o, c, _, err := e.order(ctx, t.S)
	if err != nil {
		return err
	}
	if o.Status != OrderPaid && o.Status != OrderRejected {
		return refuse("err_order_state", "Ref", o.Ref)
	}
	if !case1(c, e.d.Clock.Now()) {
		return e.enter(ctx, t, StateSignMethod, true)
	}
	if err := e.sendOTP(ctx, t, o); err != nil {
		return err
	}
	return e.enter(ctx, t, StateOTP, false)
}

func otpKey(orderID int64) string { return fmt.Sprintf("order:%d", orderID) }

func (e *Engine) otpHash(orderID int64, code string) string {
	m := hmac.New(sha256.New, []byte(e.d.OTPSecret))
	fmt.Fprintf(m, "%d:%s", orderID, code)
	return hex.EncodeToString(m.Sum(nil))
}

// sendOTP emails a fresh 6-digit code to the customer's registered email.
func (e *Engine) sendOTP(ctx context.Context, t *turn, o Order) error {
	cu, err := e.d.Customers.Customer(ctx, o.CustomerID)
	if err != nil {
		return err
	}
	if CheckEmail(cu.Email) != "" || e.d.Mailer == nil || e.d.OTPs == nil {
		return refuse("err_no_email", "Hotline", e.d.Support.Hotline)
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	wait, err := e.d.OTPs.IssueOTP(ctx, otpKey(o.ID), e.otpHash(o.ID, code), OTPTTL, OTPCooldown)
	if IsCode(err, FailedPrecondition) {
		return refuse("err_otp_cooldown", "Seconds", int(wait.Seconds()+0.5))
	}
	if err != nil {
		return err
	}
	err = e.d.Mailer.SendMail(ctx, Mail{To: cu.Email, Subject: "Mã xác thực ký đơn gia hạn " + o.Ref + " / Renewal signing code",
		Body: fmt.Sprintf("Mã xác thực của anh/chị là: %s\nMã có hiệu lực trong 10 phút. Nhập mã này trong cuộc trò chuyện để ký đơn gia hạn chứng thư số (đơn %s).\n\nYour one-time code is %s (valid 10 minutes) to sign the renewal application of order %s.\n", code, o.Ref, code, o.Ref)})
	if err != nil {
		return fmt.Errorf("send otp mail for order %d: %w", o.ID, err)
	}
	t.say(Say("otp_sent", "Email", MaskEmail(cu.Email)))
	return nil
}

func (e *Engine) promptOTP(_ context.Context, _ *Session) (Reply, error) {
	return Reply{Texts: []Text{T("ask_otp")}, Buttons: [][]Button{{{Label: T("btn_resend"), Action: "resend"}}, nav(false)}}, nil
}

func (e *Engine) resendOTP(ctx context.Context, t *turn) error {
	o, _, _, err := e.order(ctx, t.S)
	if err != nil {
		return err
	}
	if err := e.sendOTP(ctx, t, o); err != nil {
		return err
	}
	return e.enter(ctx, t, StateOTP, false)
}

func (e *Engine) otpTyped(ctx context.Context, t *turn) error {
	code := strings.TrimSpace(t.Ev.Text)
	if len(code) != 6 || !allDigits(code) {
		return refuse("err_otp_format")
	}
	o, _, _, err := e.order(ctx, t.S)
	if err != nil {
		return err
	}
	ok, left, err := e.d.OTPs.CheckOTP(ctx, otpKey(o.ID), e.otpHash(o.ID, code), OTPAttempts)
	if IsCode(err, NotFound) {
		return refuse("err_otp_expired")
	}
	if err != nil {
		return err
	}
	if !ok {
		if left <= 0 {
			return refuse("err_otp_expired")
		}
		return refuse("err_otp_wrong", "Left", left)
	}
	now := e.d.Clock.Now()
	d, err := e.d.Orders.Dossier(ctx, o.ID)
	if err != nil && !IsCode(err, NotFound) {
		return err
	}
	d.OrderID, d.Method, d.SignedAt, d.Status = o.ID, SignOTP, now, DossierCollecting
	if _, err := e.d.Orders.SaveDossier(ctx, d); err != nil {
		return err
	}
	if e.d.Audit != nil {
		if err := e.d.Audit.Audit(ctx, fmt.Sprintf("customer:%d", o.CustomerID), "sign_application_otp", "order:"+o.Ref, map[string]any{"signed_at": now}); err != nil {
			return err
		}
	}
	return e.submit(ctx, t, o, SignOTP)
}

func (e *Engine) promptSignMethod(_ context.Context, _ *Session) (Reply, error) {
	return Reply{
		Texts: []Text{T("ask_sign_method")},
		Buttons: [][]Button{
			{{Label: T("btn_sign_hand"), Action: "sign", Args: []string{string(SignHand)}}},
			{{Label: T("btn_sign_digital"), Action: "sign", Args: []string{string(SignDigital)}}},
			nav(true),
		},
	}, nil
}

func (e *Engine) pickSignMethod(ctx context.Context, t *turn) error {
	if len(t.Ev.Args) != 1 || (t.Ev.Args[0] != string(SignHand) && t.Ev.Args[0] != string(SignDigital)) {
		return refuse("err_unexpected")
	}
	method := SignMethod(t.Ev.Args[0])
	o, c, p, err := e.order(ctx, t.S)
	if err != nil {
		return err
	}
	d, err := e.d.Orders.Dossier(ctx, o.ID)
	if err != nil && !IsCode(err, NotFound) {
		return err
	}
	d.OrderID, d.Method, d.Status = o.ID, method, DossierCollecting
	if _, err := e.d.Orders.SaveDossier(ctx, d); err != nil {
		return err
	}
	form := e.applicationForm(o, c, p)
	t.say(Reply{Texts: []Text{T("form_" + string(method))}, Attachment: &form})
	if cu, err := e.d.Customers.Customer(ctx, o.CustomerID); err == nil && e.d.Mailer != nil && CheckEmail(cu.Email) == "" {
		if err := e.d.Mailer.SendMail(ctx, Mail{To: cu.Email, Subject: "Đơn gia hạn chứng thư số " + o.Ref + " / Renewal application",
			Body: "Đơn đề nghị gia hạn chứng thư số được đính kèm. / The renewal application form is attached.", Attachments: []Attachment{form}}); err != nil {
			return fmt.Errorf("mail application form of order %d: %w", o.ID, err)
		}
	}
	return e.enter(ctx, t, StateUpload, true)
}

// applicationForm is the prefilled renewal application. A plain-text form
// for now; the documents capability replaces it with the PDF.
func (e *Engine) applicationForm(o Order, c Certificate, p Package) Attachment {
	body := fmt.Sprintf("ĐƠN ĐỀ NGHỊ GIA HẠN CHỨNG THƯ SỐ\nRENEWAL APPLICATION\n\nĐơn hàng / Order: %s\nHọ tên / Name: %s\nCCCD / ID: %s\nMST / Tax code: %s\nĐịa chỉ thường trú / Address: %s\nEmail: %s\nĐiện thoại / Phone: %s\n\nLoại CTS / Type: %s\nSố serial: %s\nGói / Package: %s (%d tháng)\n\nNgày ... tháng ... năm ...\nChữ ký (và dấu) / Signature (and stamp):\n\n\n",
		o.Ref, o.Subject.FullName, o.Subject.IDNumber, o.Subject.TaxCode, o.Subject.Address, o.Subject.Email, o.Subject.Phone,
		c.Type, c.Serial, p.Name, p.Months)
	return Attachment{Name: "don-gia-han-" + o.Ref + ".txt", MIME: "text/plain; charset=utf-8", Data: []byte(body)}
}

func (e *Engine) promptUpload(ctx context.Context, s *Session) (Reply, error) {
	d, err := e.d.Orders.Dossier(ctx, s.OrderID)
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Texts: []Text{T("ask_upload_" + string(d.Method))}}
	if n := len(d.Files); n > 0 {
		r.Texts = append(r.Texts, T("files_so_far", "N", n))
		r.Buttons = append(r.Buttons, []Button{{Label: T("btn_submit"), Action: "submit"}})
	}
	r.Buttons = append(r.Buttons, nav(true))
	return r, nil
}

func (e *Engine) upload(ctx context.Context, t *turn) error {
	d, err := e.d.Orders.Dossier(ctx, t.S.OrderID)
	if err != nil {
		return err
	}
	f := t.Ev.File
	isPDF := t.Ev.Input == InDocument && (f.MIME == "application/pdf" || strings.HasSuffix(strings.ToLower(f.Name), ".pdf"))
	isImage := t.Ev.Input == InPhoto || (t.Ev.Input == InDocument && strings.HasPrefix(f.MIME, "image/"))
	switch {
	case d.Method == SignDigital && !isPDF:
		return refuse("err_need_pdf")
	case d.Method == SignHand && !isImage && !isPDF:
		return refuse("err_need_photo")
	case f.Size > MaxUploadBytes:
		return refuse("err_file_too_big", "MB", MaxUploadBytes>>20)
	case len(d.Files) >= MaxDossierFiles:
		return refuse("err_too_many_files", "N", MaxDossierFiles)
	case e.d.Files == nil:
		return Errorf(Internal, "no file downloader configured")
	}
	data, err := e.d.Files.Download(ctx, f.ID, MaxUploadBytes)
	if IsCode(err, Invalid) {
		return refuse("err_file_too_big", "MB", MaxUploadBytes>>20)
	}
	if err != nil {
		return err
	}
	kind, mime := "photo", "image/jpeg"
	switch {
	case isPDF:
		if !strings.HasPrefix(string(data), "%PDF-") {
			return refuse("err_need_pdf")
		}
		kind, mime = "pdf", "application/pdf"
	case !looksLikeImage(data):
		return refuse("err_need_photo")
	case f.MIME != "":
		mime = f.MIME
	}
	sum := sha256.Sum256(data)
	name := f.Name
	if name == "" {
		name = kind
	}
	if _, err := e.d.Orders.AddDossierFile(ctx, DossierFile{DossierID: d.ID, Kind: kind, FileName: name, MIME: mime,
		Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), TelegramFileID: f.ID}, data); err != nil {
		return err
	}
	t.say(Say("file_received", "N", len(d.Files)+1))
	return e.enter(ctx, t, StateUpload, false)
}

// looksLikeImage checks the magic bytes of JPEG, PNG and WebP.
func looksLikeImage(b []byte) bool {
	s := string(b[:min(len(b), 12)])
	return strings.HasPrefix(s, "\xff\xd8\xff") || strings.HasPrefix(s, "\x89PNG") ||
		(strings.HasPrefix(s, "RIFF") && len(s) == 12 && s[8:12] == "WEBP")
}

func (e *Engine) submitDossier(ctx context.Context, t *turn) error {
	o, _, _, err := e.order(ctx, t.S)
	if err != nil {
		return err
	}
	d, err := e.d.Orders.Dossier(ctx, o.ID)
	if err != nil {
		return err
	}
	if len(d.Files) == 0 {
		return refuse("err_no_files")
	}
	return e.submit(ctx, t, o, d.Method)
}

func (e *Engine) submit(ctx context.Context, t *turn, o Order, m SignMethod) error {
	_, err := e.d.Orders.SubmitDossier(ctx, o.ID, e.d.Clock.Now())
	if err != nil {
		if IsCode(err, FailedPrecondition) {
			return refuse("err_order_state", "Ref", o.Ref)
		}
		return err
	}
	t.say(Say("dossier_submitted", "Ref", o.Ref))
	if m == SignHand {
		t.say(Say("keep_paper"))
	}
	t.staff(Say("staff_dossier_submitted", "Ref", o.Ref, "Method", string(m)))
	t.S.OrderID, t.S.CertificateID, t.S.PackageID, t.S.Back = 0, 0, 0, nil
	return e.enter(ctx, t, StateIdle, false)
}

// ---- status and cancel ----

func (e *Engine) status(ctx context.Context, t *turn) error {
	orders, err := e.d.Orders.OrdersOf(ctx, t.S.CustomerID)
	if err != nil {
		return err
	}
	if len(orders) == 0 {
		t.say(Say("no_orders"))
	} else {
		r := Reply{Texts: []Text{T("orders_header")}}
		for i, o := range orders {
			if i == 10 {
				break
			}
			r.Texts = append(r.Texts, T("order_line", "Ref", o.Ref, "Status", T("status_"+string(o.Status)), "Total", Money(o.TotalVND),
				"Date", o.CreatedAt.In(e.d.Loc).Format("02/01/2006")))
		}
		t.say(r)
	}
	p, err := e.prompt(ctx, t.S)
	if err != nil {
		return err
	}
	t.say(p)
	return nil
}

// cancelOrder cancels the conversation's order while it is a draft or not
// paid yet; a paid order stays (the customer can come back to it).
func (e *Engine) cancelOrder(ctx context.Context, t *turn) error {
	id := t.S.OrderID
	t.S.OrderID = 0
	o, err := e.d.Orders.Order(ctx, id)
	if IsCode(err, NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if o.CustomerID != t.S.CustomerID || (o.Status != OrderDraft && o.Status != OrderAwaitingPayment) {
		return nil
	}
	if _, err := e.d.Orders.SetOrderStatus(ctx, o.ID, o.Status, OrderCancelled); err != nil && !IsCode(err, Conflict) {
		return err
	}
	t.say(Say("order_cancelled", "Ref", o.Ref))
	return nil
}
