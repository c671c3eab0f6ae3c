package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/renewbot/renewbot/flows"
)

var _ flows.Customers = (*DB)(nil)

const customerColumns = `id, code, name, phone, email, id_number, tax_code, address, sales_rep, reminders_off`

type customerRow struct {
	ID           int64
	Code         string
	Name         string
	Phone        *string
	Email        string
	IDNumber     string
	TaxCode      string
	Address      string
	SalesRep     string
	RemindersOff bool
}

func scanCustomer(row pgx.Row) (flows.Customer, error) {
	var r customerRow
	err := row.Scan(&r.ID, &r.Code, &r.Name, &r.Phone, &r.Email, &r.IDNumber, &r.TaxCode,
		&r.Address, &r.SalesRep, &r.RemindersOff)
	if err != nil {
		return flows.Customer{}, err
	}
	return r.customer(), nil
}

func (r customerRow) customer() flows.Customer {
	return flows.Customer{
		ID: r.ID, Code: r.Code, Name: r.Name, Phone: textOf(r.Phone), Email: r.Email,
		IDNumber: r.IDNumber, TaxCode: r.TaxCode, Address: r.Address, SalesRep: r.SalesRep,
		RemindersOff: r.RemindersOff,
	}
}

const sqlCustomerByPhone = `SELECT ` + customerColumns + ` FROM customers WHERE phone = $1`

// CustomerByPhone finds a customer by a normalized phone. NotFound.
func (db *DB) CustomerByPhone(ctx context.Context, phone string) (flows.Customer, error) {
	c, err := scanCustomer(db.pool.QueryRow(ctx, sqlCustomerByPhone, phone))
	if err != nil {
		return flows.Customer{}, dbError(err, "customer by phone")
	}
	return c, nil
}

const sqlCustomer = `SELECT ` + customerColumns + ` FROM customers WHERE id = $1`

// Customer loads by id. NotFound.
func (db *DB) Customer(ctx context.Context, id int64) (flows.Customer, error) {
	c, err := scanCustomer(db.pool.QueryRow(ctx, sqlCustomer, id))
	if err != nil {
		return flows.Customer{}, dbError(err, "load customer %d", id)
	}
	return c, nil
}

const sqlLinkByChat = `
SELECT chat_id, user_id, customer_id, lang, active
FROM telegram_links
WHERE chat_id = $1 AND active`

// LinkByChat returns the active link of a chat. NotFound.
func (db *DB) LinkByChat(ctx context.Context, chatID int64) (flows.Link, error) {
	var l flows.Link
	err := db.pool.QueryRow(ctx, sqlLinkByChat, chatID).
		Scan(&l.ChatID, &l.UserID, &l.CustomerID, &l.Lang, &l.Active)
	if err != nil {
		return flows.Link{}, dbError(err, "link of chat %d", chatID)
	}
	return l, nil
}

const sqlLinkByCustomer = `
SELECT chat_id, user_id, customer_id, lang, active
FROM telegram_links
WHERE customer_id = $1 AND active
ORDER BY linked_at DESC, chat_id DESC
LIMIT 1`

// LinkByCustomer returns the customer's active chat link, the most recently
// linked when several. NotFound when the customer has none.
func (db *DB) LinkByCustomer(ctx context.Context, customerID int64) (flows.Link, error) {
	var l flows.Link
	err := db.pool.QueryRow(ctx, sqlLinkByCustomer, customerID).
		Scan(&l.ChatID, &l.UserID, &l.CustomerID, &l.Lang, &l.Active)
	if err != nil {
		return flows.Link{}, dbError(err, "link of customer %d", customerID)
	}
	return l, nil
}

// An empty lang keeps the language the chat had.
const sqlLinkChat = `
INSERT INTO telegram_links (chat_id, user_id, customer_id, lang, active, linked_at)
VALUES ($1, $2, $3, $4, true, now())
ON CONFLICT (chat_id) DO UPDATE SET
	user_id = EXCLUDED.user_id,
	customer_id = EXCLUDED.customer_id,
	lang = COALESCE(NULLIF(EXCLUDED.lang, ''), telegram_links.lang),
	active = true,
	linked_at = now()`

// LinkChat links (or re-links) a chat to a customer and activates it. An
// empty Lang keeps the chat's previous language. NotFound when the customer
// does not exist; Invalid without a chat or customer id.
func (db *DB) LinkChat(ctx context.Context, l flows.Link) error {
	if l.ChatID == 0 || l.CustomerID == 0 {
		return flows.Errorf(flows.Invalid, "link chat %d to customer %d: both ids are required", l.ChatID, l.CustomerID)
	}
	if _, err := db.pool.Exec(ctx, sqlLinkChat, l.ChatID, l.UserID, l.CustomerID, l.Lang); err != nil {
		return dbError(err, "link chat %d to customer %d", l.ChatID, l.CustomerID)
	}
	return nil
}

const sqlSetLinkLang = `UPDATE telegram_links SET lang = $2 WHERE chat_id = $1 AND active`

// SetLinkLang stores the chat's language. NotFound when not linked.
func (db *DB) SetLinkLang(ctx context.Context, chatID int64, lang string) error {
	tag, err := db.pool.Exec(ctx, sqlSetLinkLang, chatID, lang)
	if err != nil {
		return dbError(err, "set language of chat %d", chatID)
	}
	if tag.RowsAffected() == 0 {
		return flows.Errorf(flows.NotFound, "set language of chat %d: chat is not linked", chatID)
	}
	return nil
}

const sqlDeactivateLink = `UPDATE telegram_links SET active = false WHERE chat_id = $1`

// DeactivateLink marks a chat unreachable (Telegram answered 403). A chat that
// is not linked is not an error: there is nothing to deactivate.
func (db *DB) DeactivateLink(ctx context.Context, chatID int64) error {
	if _, err := db.pool.Exec(ctx, sqlDeactivateLink, chatID); err != nil {
		return dbError(err, "deactivate chat %d", chatID)
	}
	return nil
}
