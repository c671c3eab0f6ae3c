package flows

import (
	"context"
	"fmt"
	"time"
)

// Account linking, the menu, languages, the certificate list, and the steps
// available everywhere.

func (e *Engine) start(ctx context.Context, t *turn) error {
	t.S.Back = nil
	t.S.PendingCode, t.S.EditField = "", ""
	if t.S.CustomerID == 0 {
		if l, err := e.d.Customers.LinkByChat(ctx, t.S.ChatID); err == nil {
			t.S.CustomerID = l.CustomerID
		} else if !IsCode(err, NotFound) {
			return err
		}
	}
	if t.S.CustomerID == 0 {
		t.say(Say("welcome"))
		return e.enter(ctx, t, StateAwaitContact, false)
	}
	c, err := e.d.Customers.Customer(ctx, t.S.CustomerID)
	if err != nil {
		return err
	}
	t.say(Say("welcome_back", "Name", c.Name))
	return e.enter(ctx, t, StateIdle, false)
}

func (e *Engine) promptContact(_ context.Context, _ *Session) (Reply, error) {
	return Reply{Texts: []Text{T("ask_contact")}, AskContact: true}, nil
}

func (e *Engine) contactTyped(_ context.Context, _ *turn) error {
	return refuse("err_contact_button")
}

func (e *Engine) contact(ctx context.Context, t *turn) error {
	c := t.Ev.Contact
	if c == nil || c.UserID != t.Ev.UserID {
		return refuse("err_contact_not_own")
	}
	phone, ok := NormalizePhone(c.Phone)
	if !ok {
		return e.unknownPhone(t)
	}
	cust, err := e.d.Customers.CustomerByPhone(ctx, phone)
	if IsCode(err, NotFound) {
		return e.unknownPhone(t)
	}
	if err != nil {
		return err
	}
	if err := e.d.Customers.LinkChat(ctx, Link{CustomerID: cust.ID, ChatID: t.S.ChatID, UserID: t.Ev.UserID, Lang: t.S.Lang, Active: true}); err != nil {
		return fmt.Errorf("link chat %d: %w", t.S.ChatID, err)
	}
	if e.d.Audit != nil {
		if err := e.d.Audit.Audit(ctx, fmt.Sprintf("tg:%d", t.Ev.UserID), "link", fmt.Sprintf("customer:%d", cust.ID), map[string]any{"chat_id": t.S.ChatID}); err != nil {
			return err
		}
	}
	t.S.CustomerID = cust.ID
	t.say(Reply{Texts: []Text{T("linked", "Name", cust.Name)}, RemoveKeyboard: true})
	return e.enter(ctx, t, StateIdle, false)
}

// unknownPhone keeps the customer on the contact step with a way to a person.
func (e *Engine) unknownPhone(t *turn) error {
	t.say(Reply{
		Texts:   []Text{T("unknown_phone", "Hotline", e.d.Support.Hotline, "Email", e.d.Support.Email)},
		Buttons: [][]Button{{{Label: T("btn_human"), Action: "human"}}},
	})
	t.staff(Say("staff_unknown_phone", "ChatID", t.S.ChatID, "Phone", MaskPhone(t.Ev.Contact.Phone)))
	return nil
}

func (e *Engine) promptMenu(_ context.Context, s *Session) (Reply, error) {
	if s.CustomerID == 0 {
		return e.promptContact(nil, s)
	}
	return Reply{
		Texts: []Text{T("menu")},
		Buttons: [][]Button{
			{{Label: T("btn_certs"), Action: "certs"}, {Label: T("btn_renew"), Action: "renew"}},
			{{Label: T("btn_status"), Action: "status"}, {Label: T("btn_human"), Action: "human"}},
			{{Label: T("btn_lang"), Action: "lang"}},
		},
	}, nil
}

func (e *Engine) menu(ctx context.Context, t *turn) error {
	t.S.Back = nil
	state := StateIdle
	if t.S.CustomerID == 0 {
		state = StateAwaitContact
	}
	return e.enter(ctx, t, state, false)
}

func (e *Engine) help(ctx context.Context, t *turn) error {
	t.say(Say("help"))
	r, err := e.prompt(ctx, t.S)
	if err != nil {
		return err
	}
	t.say(r)
	return nil
}

func (e *Engine) askLang(_ context.Context, t *turn) error {
	t.say(Reply{
		Texts: []Text{T("ask_lang")},
		Buttons: [][]Button{{
			{Label: T("lang_vi"), Action: "setlang", Args: []string{"vi"}},
			{Label: T("lang_en"), Action: "setlang", Args: []string{"en"}},
		}},
	})
	return nil
}

func (e *Engine) setLang(ctx context.Context, t *turn) error {
	if len(t.Ev.Args) != 1 || (t.Ev.Args[0] != "vi" && t.Ev.Args[0] != "en") {
		return refuse("err_unexpected")
	}
	t.S.Lang = t.Ev.Args[0]
	if t.S.CustomerID != 0 {
		if err := e.d.Customers.SetLinkLang(ctx, t.S.ChatID, t.S.Lang); err != nil && !IsCode(err, NotFound) {
			return err
		}
	}
	t.say(Say("lang_set"))
	r, err := e.prompt(ctx, t.S)
	if err != nil {
		return err
	}
	t.say(r)
	return nil
}

// linked guards steps that need a linked customer: others are asked for
// their phone number first.
func linked(f step) step {
	return func(e *Engine, ctx context.Context, t *turn) error {
		if t.S.CustomerID == 0 {
			t.say(Say("need_link"))
			return e.enter(ctx, t, StateAwaitContact, false)
		}
		return f(e, ctx, t)
	}
}

func (e *Engine) listCerts(ctx context.Context, t *turn) error {
	certs, err := e.d.Certificates.CertificatesOf(ctx, t.S.CustomerID)
	if err != nil {
		return err
	}
	if len(certs) == 0 {
		t.say(Reply{Texts: []Text{T("no_certs")}, Buttons: [][]Button{nav(false)[1:]}})
		return nil
	}
	now := e.d.Clock.Now()
	r := Reply{Texts: []Text{T("certs_header", "Count", len(certs))}}
	for _, c := range certs {
		r.Texts = append(r.Texts, e.certLine(c, now))
		r.Buttons = append(r.Buttons, []Button{{Label: T("btn_renew_cert", "Serial", c.Serial), Action: "renew", Args: []string{fmt.Sprint(c.ID)}}})
	}
	r.Buttons = append(r.Buttons, []Button{{Label: T("btn_menu"), Action: "menu"}, {Label: T("btn_human"), Action: "human"}})
	t.say(r)
	return nil
}

// certLine describes one certificate: type, serial, subject, expiry, days left.
func (e *Engine) certLine(c Certificate, now time.Time) Text {
	days := c.DaysLeft(now, e.d.Loc)
	id := "cert_line"
	if c.Expired(now) {
		id = "cert_line_expired"
		days = -days
	}
	return T(id, "Type", T("type_"+string(c.Type)), "Serial", c.Serial, "Subject", c.Subject,
		"Expiry", c.NotAfter.In(e.d.Loc).Format("02/01/2006"), "Days", days)
}

func (e *Engine) human(ctx context.Context, t *turn) error {
	var name, rep string
	if t.S.CustomerID != 0 {
		c, err := e.d.Customers.Customer(ctx, t.S.CustomerID)
		if err != nil {
			return err
		}
		name, rep = c.Name, c.SalesRep
	}
	t.say(Say("human_requested", "Hotline", e.d.Support.Hotline, "Email", e.d.Support.Email, "SalesRep", rep))
	t.staff(Say("staff_human", "ChatID", t.S.ChatID, "Name", name, "State", string(t.S.State), "SalesRep", rep))
	return nil
}

func (e *Engine) cancel(ctx context.Context, t *turn) error {
	t.S.Back = nil
	t.S.PendingCode, t.S.EditField = "", ""
	t.S.CertificateID, t.S.PackageID = 0, 0
	if t.S.OrderID != 0 {
		if err := e.cancelOrder(ctx, t); err != nil {
			return err
		}
	}
	t.say(Say("cancelled"))
	return e.menu(ctx, t)
}

func (e *Engine) back(ctx context.Context, t *turn) error {
	t.S.EditField = ""
	if n := len(t.S.Back); n > 0 {
		prev := t.S.Back[n-1]
		t.S.Back = t.S.Back[:n-1]
		return e.enter(ctx, t, prev, false)
	}
	return e.menu(ctx, t)
}
