package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Expiry reminders, pure logic (issue 6). The scheduler reads certificates
// whose planned reminder moment has come (Reminders.ReminderCandidates), asks
// ReminderPolicy.Plan what to do, and hands the plan back to storage
// (Reminders.ApplyReminders), which claims each reminder in the ledger under
// its unique key (certificate, period, tier) and enqueues the message in the
// outbox in the same transaction. The outbox dispatcher then sends it through
// a Sender. Nothing here knows SQL, Redis or Telegram.

// Tier is a reminder moment, in calendar days before the expiry day of a
// certificate (in the policy's time zone): 30 is "30 days before", 0 the
// expiry day, -3 "3 days after expiry".
type Tier int

// DefaultTiers are 30, 14, 7, 3 and 1 days before, the expiry day, and 3 and
// 14 days after (the seed's case 2: an expired certificate can still be renewed).
var DefaultTiers = []Tier{30, 14, 7, 3, 1, 0, -3, -14}

// String is the tier's name in the ledger: "30d_before", "expiry_day", "3d_after".
func (t Tier) String() string {
	switch {
	case t > 0:
		return strconv.Itoa(int(t)) + "d_before"
	case t == 0:
		return "expiry_day"
	}
	return strconv.Itoa(int(-t)) + "d_after"
}

// ParseTier reads a name written by Tier.String.
func ParseTier(s string) (Tier, error) {
	if s == "expiry_day" {
		return 0, nil
	}
	for suffix, sign := range map[string]int{"d_before": 1, "d_after": -1} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			d, err := strconv.Atoi(n)
			if err == nil && d > 0 {
				return Tier(sign * d), nil
			}
		}
	}
	return 0, Errorf(Invalid, "unknown reminder tier %q", s)
}

// ParseTiers reads a configuration list of days before expiry, negative after:
// "30,14,7,3,1,0,-3,-14".
func ParseTiers(s string) ([]Tier, error) {
	var out []Tier
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d > 3660 || d < -3660 {
			return nil, Errorf(Invalid, "reminder tier %q: want a whole number of days", f)
		}
		out = append(out, Tier(d))
	}
	if len(out) == 0 {
		return nil, Errorf(Invalid, "no reminder tiers in %q", s)
	}
	return normTiers(out), nil
}

// normTiers sorts tiers from the earliest (most days before) to the most
// urgent and drops duplicates.
func normTiers(ts []Tier) []Tier {
	out := slices.Clone(ts)
	slices.SortFunc(out, func(a, b Tier) int { return int(b) - int(a) })
	return slices.Compact(out)
}

// ReminderNever is the planned moment of a certificate with no tier left in
// its period (storage keeps it as a plain far-future timestamp).
var ReminderNever = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// ReminderPolicy says when reminders go out.
type ReminderPolicy struct {
	Tiers []Tier
	// Loc is the customers' time zone: tiers count its calendar days and quiet
	// hours are its wall clock. (Customers have no time zone of their own yet.)
	Loc *time.Location
	// QuietFrom and QuietUntil are times of day (offsets from midnight) between
	// which no reminder is claimed: a due reminder waits for QuietUntil. Equal
	// values turn quiet hours off. Default 21:00 to 08:00.
	QuietFrom, QuietUntil time.Duration
	// LateDays is how long after its moment the last tier may still be sent
	// (a reminder missed while the service was down is sent late, once).
	// Earlier tiers are superseded by the next one instead.
	LateDays int
	// GroupWithin pulls a customer's other certificates whose next tier comes
	// within this span into the message being sent, so a customer with several
	// certificates expiring close together gets one message.
	GroupWithin time.Duration
}

// DefaultReminderPolicy is the policy of the issue: DefaultTiers, quiet from
// 21:00 to 08:00 in loc, 7 days of lateness for the last tier, grouping within
// 3 days.
func DefaultReminderPolicy(loc *time.Location) ReminderPolicy {
	return ReminderPolicy{
		Tiers: DefaultTiers, Loc: loc,
		QuietFrom: 21 * time.Hour, QuietUntil: 8 * time.Hour,
		LateDays: 7, GroupWithin: 72 * time.Hour,
	}
}

// Check validates the policy and returns it with tiers sorted.
func (p ReminderPolicy) Check() (ReminderPolicy, error) {
	if len(p.Tiers) == 0 {
		return p, errors.New("reminders: no tiers")
	}
	if p.Loc == nil {
		return p, errors.New("reminders: no time zone")
	}
	day := 24 * time.Hour
	if p.QuietFrom < 0 || p.QuietFrom >= day || p.QuietUntil < 0 || p.QuietUntil >= day {
		return p, fmt.Errorf("reminders: quiet hours %v-%v are not times of day", p.QuietFrom, p.QuietUntil)
	}
	if p.LateDays < 0 || p.GroupWithin < 0 {
		return p, errors.New("reminders: negative lateness or grouping span")
	}
	p.Tiers = normTiers(p.Tiers)
	return p, nil
}

// Quiet reports whether at falls in quiet hours.
func (p ReminderPolicy) Quiet(at time.Time) bool {
	if p.QuietFrom == p.QuietUntil {
		return false
	}
	l := at.In(p.Loc)
	tod := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute + time.Duration(l.Second())*time.Second
	if p.QuietFrom > p.QuietUntil { // wraps midnight, e.g. 21:00-08:00
		return tod >= p.QuietFrom || tod < p.QuietUntil
	}
	return tod >= p.QuietFrom && tod < p.QuietUntil
}

// AfterQuiet returns at, or the end of the quiet hours at falls in.
func (p ReminderPolicy) AfterQuiet(at time.Time) time.Time {
	if !p.Quiet(at) {
		return at
	}
	l := at.In(p.Loc)
	end := dayStart(l, 0).Add(p.QuietUntil)
	if !end.After(at) {
		end = dayStart(l, 1).Add(p.QuietUntil)
	}
	return end
}

// dayStart is local midnight, days after t's date (DST-safe: built from the date).
func dayStart(t time.Time, days int) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day()+days, 0, 0, 0, 0, t.Location())
}

// Moment is when tier t of a certificate expiring at notAfter is reached:
// the start of its day, moved out of quiet hours (08:00 by default).
func (p ReminderPolicy) Moment(notAfter time.Time, t Tier) time.Time {
	return p.AfterQuiet(dayStart(notAfter.In(p.Loc), -int(t)))
}

// Current is the most urgent tier reached at now, if any is still worth
// sending: the last tier stops being sent LateDays after its moment.
func (p ReminderPolicy) Current(notAfter, now time.Time) (Tier, bool) {
	for i := len(p.Tiers) - 1; i >= 0; i-- {
		t := p.Tiers[i]
		m := p.Moment(notAfter, t)
		if m.After(now) {
			continue
		}
		if i == len(p.Tiers)-1 && now.After(m.AddDate(0, 0, p.LateDays)) {
			return 0, false
		}
		return t, true
	}
	return 0, false
}

// Due returns the tier to claim now: the current tier, unless it or a more
// urgent one is already in the ledger for this period.
func (p ReminderPolicy) Due(notAfter time.Time, claimed []Tier, now time.Time) (Tier, bool) {
	t, ok := p.Current(notAfter, now)
	if !ok {
		return 0, false
	}
	for _, c := range claimed {
		if c <= t {
			return 0, false
		}
	}
	return t, true
}

// Next is the first tier moment strictly after after (ReminderNever and
// false when none is left).
func (p ReminderPolicy) Next(notAfter, after time.Time) (time.Time, Tier, bool) {
	for _, t := range p.Tiers { // earliest moment first
		if m := p.Moment(notAfter, t); m.After(after) {
			return m, t, true
		}
	}
	return ReminderNever, 0, false
}

// ReminderCandidate is a certificate the sweep looks at, with what the
// decision needs.
type ReminderCandidate struct {
	Certificate Certificate
	// Due is set when the certificate's planned moment has come (or it was
	// never planned); otherwise it is a sibling of a due certificate of the
	// same customer, whose next tier comes within GroupWithin.
	Due          bool
	RemindersOff bool
	OpenOrder    bool   // an order in progress: the customer is renewing already
	ChatID       int64  // the customer's active chat, 0 when not linked
	Lang         string // the chat's language
	Claimed      []Tier // tiers already in the ledger for this period
}

// ReminderStatus is the state of a ledger row.
type ReminderStatus string

const (
	ReminderClaimed       ReminderStatus = "claimed"       // in the outbox, to be sent
	ReminderSent          ReminderStatus = "sent"          // Telegram accepted it
	ReminderUndeliverable ReminderStatus = "undeliverable" // not linked, or blocked the bot
	ReminderSkipped       ReminderStatus = "skipped"       // opted out, or renewing already
)

// Reasons recorded with a ledger row that is not sent.
const (
	ReasonOpenOrder = "open_order"
	ReasonOptedOut  = "opted_out"
	ReasonNotLinked = "not_linked"
	ReasonBlocked   = "blocked"
	ReasonFailed    = "failed"
)

// ReminderDecision is what the sweep does with one certificate: possibly a
// ledger row (Claim), and always its next planned moment.
type ReminderDecision struct {
	CertificateID int64
	Period        time.Time // the period's not_after, part of the ledger key
	Claim         bool
	Tier          Tier
	Status        ReminderStatus
	Reason        string
	NextAt        time.Time
}

// ReminderItem is one certificate in a reminder message.
type ReminderItem struct {
	CertificateID int64     `json:"certificate_id"`
	Period        time.Time `json:"period"` // not_after
	Tier          Tier      `json:"tier"`
	Serial        string    `json:"serial"`
	Subject       string    `json:"subject"`
	Type          CertType  `json:"type"`
}

// ReminderMessage is one message to one customer listing the certificates
// due together.
type ReminderMessage struct {
	CustomerID int64          `json:"customer_id"`
	ChatID     int64          `json:"chat_id"`
	Lang       string         `json:"lang"`
	Items      []ReminderItem `json:"items"`
}

// Key is the message's idempotency key, derived from the ledger key of its
// first item (which only one sweep can claim).
func (m ReminderMessage) Key() string {
	if len(m.Items) == 0 {
		return ""
	}
	it := m.Items[0]
	return fmt.Sprintf("reminder:%d:%d:%s", it.CertificateID, it.Period.Unix(), it.Tier)
}

// Reply renders the message at now: each certificate with its expiry date and
// days left, and a versionless "Renew now" button per certificate that opens
// the renewal for it.
func (m ReminderMessage) Reply(now time.Time, loc *time.Location) Reply {
	var r Reply
	if len(m.Items) == 1 {
		r.Texts = append(r.Texts, T("reminder_one"))
	} else {
		r.Texts = append(r.Texts, T("reminder_many", "Count", len(m.Items)))
	}
	for _, it := range m.Items {
		c := Certificate{NotAfter: it.Period}
		days := c.DaysLeft(now, loc)
		id := "reminder_line_before"
		switch {
		case days == 0:
			id = "reminder_line_today"
		case days < 0:
			id, days = "reminder_line_after", -days
		}
		r.Texts = append(r.Texts, T(id, "Type", T("type_"+string(it.Type)), "Serial", it.Serial,
			"Subject", it.Subject, "Expiry", it.Period.In(loc).Format("02/01/2006"), "Days", days))
		label := T("btn_renew_now")
		if len(m.Items) > 1 {
			label = T("btn_renew_cert", "Serial", it.Serial)
		}
		r.Buttons = append(r.Buttons, []Button{{Label: label, Action: "renew", Args: []string{strconv.FormatInt(it.CertificateID, 10)}}})
	}
	r.Texts = append(r.Texts, T("reminder_footer"))
	return r
}

// ReminderPlan is what one sweep batch decided.
type ReminderPlan struct {
	Decisions []ReminderDecision
	Messages  []ReminderMessage
}

// Plan decides, at now, for candidates ordered by customer: which tier each
// due certificate claims and with which status, the certificates of one
// customer grouped into one message, and every certificate's next moment.
// During quiet hours nothing is claimed: due certificates are planned again
// for the end of the quiet hours.
func (p ReminderPolicy) Plan(cands []ReminderCandidate, now time.Time) ReminderPlan {
	var plan ReminderPlan
	quiet := p.Quiet(now)
	for start := 0; start < len(cands); {
		end := start + 1
		for end < len(cands) && cands[end].Certificate.CustomerID == cands[start].Certificate.CustomerID {
			end++
		}
		p.planCustomer(&plan, cands[start:end], now, quiet)
		start = end
	}
	return plan
}

func (p ReminderPolicy) planCustomer(plan *ReminderPlan, cands []ReminderCandidate, now time.Time, quiet bool) {
	var msg *ReminderMessage
	item := func(c ReminderCandidate, t Tier) {
		if msg == nil {
			msg = &ReminderMessage{CustomerID: c.Certificate.CustomerID, ChatID: c.ChatID, Lang: c.Lang}
		}
		cert := c.Certificate
		msg.Items = append(msg.Items, ReminderItem{CertificateID: cert.ID, Period: cert.NotAfter, Tier: t,
			Serial: cert.Serial, Subject: cert.Subject, Type: cert.Type})
	}
	for _, c := range cands {
		if !c.Due {
			continue
		}
		na := c.Certificate.NotAfter
		d := ReminderDecision{CertificateID: c.Certificate.ID, Period: na}
		d.NextAt, _, _ = p.Next(na, now)
		t, ok := p.Due(na, c.Claimed, now)
		switch {
		case !ok:
		case quiet:
			d.NextAt = p.AfterQuiet(now)
		default:
			d.Claim, d.Tier = true, t
			switch {
			case c.OpenOrder:
				d.Status, d.Reason = ReminderSkipped, ReasonOpenOrder
			case c.RemindersOff:
				d.Status, d.Reason = ReminderSkipped, ReasonOptedOut
			case c.ChatID == 0:
				d.Status, d.Reason = ReminderUndeliverable, ReasonNotLinked
			default:
				d.Status = ReminderClaimed
				item(c, t)
			}
		}
		plan.Decisions = append(plan.Decisions, d)
	}
	if msg == nil {
		return
	}
	// Siblings whose next tier is close: send it now, with the others.
	for _, c := range cands {
		if c.Due || c.OpenOrder || c.RemindersOff {
			continue
		}
		na := c.Certificate.NotAfter
		after := now // past every tier claimed already (some may have been pulled forward)
		for _, ct := range c.Claimed {
			if m := p.Moment(na, ct); m.After(after) {
				after = m
			}
		}
		m, t, ok := p.Next(na, after)
		if !ok || m.After(now.Add(p.GroupWithin)) {
			continue
		}
		d := ReminderDecision{CertificateID: c.Certificate.ID, Period: na, Claim: true, Tier: t, Status: ReminderClaimed}
		d.NextAt, _, _ = p.Next(na, m)
		plan.Decisions = append(plan.Decisions, d)
		item(c, t)
	}
	plan.Messages = append(plan.Messages, *msg)
}

// ReminderCounts sums up what a sweep did.
type ReminderCounts struct {
	Candidates    int // certificates looked at
	Claimed       int // ledger rows claimed for sending
	Skipped       int // opted out, or renewing already
	Undeliverable int // not linked
	Messages      int // outbox messages enqueued
	Deferred      int // due, waiting for the end of quiet hours
}

// Add adds o to c.
func (c *ReminderCounts) Add(o ReminderCounts) {
	c.Candidates += o.Candidates
	c.Claimed += o.Claimed
	c.Skipped += o.Skipped
	c.Undeliverable += o.Undeliverable
	c.Messages += o.Messages
	c.Deferred += o.Deferred
}

// Reminders is the ledger and what the sweep reads (storage/postgres).
type Reminders interface {
	// ReminderCandidates returns up to limit certificates that are due at now
	// (planned moment reached, or never planned) and, for grouping, the other
	// certificates of the same customers planned before groupUntil; ordered
	// by customer.
	ReminderCandidates(ctx context.Context, now, groupUntil time.Time, limit int) ([]ReminderCandidate, error)
	// ApplyReminders writes a plan in one transaction: each claim under its
	// unique ledger key (a key claimed already, e.g. by another instance, is
	// left alone and its certificate dropped from the message), one outbox
	// message per message with items left, and every decision's next
	// moment, unless the certificate's period changed meanwhile. Conflict on
	// a serialization failure (the caller may retry).
	ApplyReminders(ctx context.Context, plan ReminderPlan, now time.Time) (ReminderCounts, error)
}

// OutboxKind names what produced an outbox message.
type OutboxKind string

const (
	OutboxReminder  OutboxKind = "reminder"
	OutboxBroadcast OutboxKind = "broadcast"
	OutboxNotice    OutboxKind = "notice" // status changes and other replies
)

// OutboxMessage is a proactive message: reminders, broadcasts, status
// changes all go through the outbox and one dispatcher.
type OutboxMessage struct {
	ID     int64
	ChatID int64
	Kind   OutboxKind
	// Key is the idempotency key: a second Enqueue with it is ignored.
	Key      string
	Lang     string
	Attempts int

	Reminder  *ReminderMessage  `json:"reminder,omitempty"`
	Broadcast *BroadcastMessage `json:"broadcast,omitempty"`
	// Replies is for other notices; their Text.Data must survive JSON
	// (strings and numbers, no nested Text).
	Replies []Reply `json:"replies,omitempty"`
}

// BroadcastMessage is a staff broadcast's text for one recipient.
type BroadcastMessage struct {
	BroadcastID int64  `json:"broadcast_id"`
	Text        string `json:"text"`
}

// Render returns the replies to send at now.
func (m OutboxMessage) Render(now time.Time, loc *time.Location) []Reply {
	var out []Reply
	if m.Reminder != nil {
		out = append(out, m.Reminder.Reply(now, loc))
	}
	if m.Broadcast != nil {
		out = append(out, Reply{Texts: []Text{T("broadcast_text", "Value", m.Broadcast.Text)},
			Buttons: [][]Button{{{Label: T("btn_renew"), Action: "renew"}}}})
	}
	return append(out, m.Replies...)
}

// OutboxStatus is the state of an outbox message.
type OutboxStatus string

const (
	OutboxPending OutboxStatus = "pending"
	OutboxSending OutboxStatus = "sending" // claimed by a dispatcher, under a lease
	OutboxSent    OutboxStatus = "sent"
	OutboxFailed  OutboxStatus = "failed"  // gave up (permanent error, retries used up, outcome unknown)
	OutboxBlocked OutboxStatus = "blocked" // the user blocked the bot (403)
)

// OutboxResult is the outcome of one send attempt.
type OutboxResult struct {
	Status  OutboxStatus // OutboxPending means "retry at RetryAt"
	RetryAt time.Time
	Error   string
}

// Outbox stores proactive messages until they are sent (storage/postgres).
type Outbox interface {
	// Enqueue adds a pending message due at at. A message whose Key exists
	// already is not added again (created false, the existing id).
	Enqueue(ctx context.Context, m OutboxMessage, at time.Time) (id int64, created bool, err error)
	// DueOutbox lists up to limit pending messages due at now, oldest first.
	DueOutbox(ctx context.Context, now time.Time, limit int) ([]OutboxMessage, error)
	// PostponeOutbox moves a pending message's due time (rate limited).
	PostponeOutbox(ctx context.Context, id int64, until time.Time) error
	// ClaimOutbox moves a pending due message to sending, counting an
	// attempt, under a lease until leaseUntil. false when another dispatcher
	// claimed it first or it is not due.
	ClaimOutbox(ctx context.Context, id int64, now, leaseUntil time.Time) (bool, error)
	// FinishOutbox records the outcome of a claimed message, and copies it to
	// the reminders ledger or the broadcast it belongs to.
	FinishOutbox(ctx context.Context, id int64, r OutboxResult, now time.Time) error
	// ExpireOutboxLeases fails messages whose sender lost its lease mid-send
	// (crashed): whether Telegram got them is unknown, and a message is never
	// sent twice, so they are not retried but reported.
	ExpireOutboxLeases(ctx context.Context, now time.Time) (int, error)
}

// SendFailure classifies a failed send.
type SendFailure string

const (
	SendRetryLater SendFailure = "retry_later" // 429: wait RetryAfter, then the same message again
	SendBlocked    SendFailure = "blocked"     // 403: the chat blocked the bot; its link is deactivated
	SendTransient  SendFailure = "transient"   // 5xx, timeouts, network: retry with backoff
	SendRejected   SendFailure = "rejected"    // 400 and the like: retrying will not help
)

// SendError is the error a Sender returns.
type SendError struct {
	Failure    SendFailure
	RetryAfter time.Duration
	Err        error
}

func (e *SendError) Error() string {
	s := "send: " + string(e.Failure)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %v)", e.RetryAfter)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *SendError) Unwrap() error { return e.Err }

// SendFailureOf classifies err: a *SendError says what it is; any other
// error is transient.
func SendFailureOf(err error) (SendFailure, time.Duration) {
	var se *SendError
	if errors.As(err, &se) {
		return se.Failure, se.RetryAfter
	}
	return SendTransient, 0
}

// Sender delivers a proactive message to a chat, once, without retrying
// (bot.Adapter.Post). It returns nil or a *SendError.
type Sender interface {
	Post(ctx context.Context, chatID int64, lang string, replies []Reply) error
}
