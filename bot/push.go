package bot

import (
	"context"
	"errors"
	"time"

	tg "github.com/go-telegram/bot"

	"github.com/renewbot/renewbot/flows"
)

var _ flows.Sender = (*Adapter)(nil)

// Post sends the replies of a proactive message (the scheduler's outbox:
// reminders, broadcasts, status notices) once, without retrying, and returns
// a classified *flows.SendError so that the outbox decides what to do:
//
//	429          SendRetryLater, RetryAfter from Telegram
//	403          SendBlocked; the chat's link is deactivated here
//	400, 401...  SendRejected: retrying will not help
//	5xx, network, timeout  SendTransient
//
// Buttons are drawn versionless (flows.AnyVersion): such a message is not
// tied to a step of the conversation, so its buttons never expire. A message
// is meant to be one Telegram message (a reply longer than 4096 characters
// is split, and a failure after the first piece would resend it).
func (a *Adapter) Post(ctx context.Context, chatID int64, lang string, replies []flows.Reply) error {
	for _, r := range replies {
		if err := a.pushOne(ctx, chatID, lang, r); err != nil {
			return a.classify(ctx, chatID, err)
		}
	}
	return nil
}

func (a *Adapter) pushOne(ctx context.Context, chatID int64, lang string, r flows.Reply) error {
	if _, err := a.markup(lang, flows.AnyVersion, r); err != nil {
		return &flows.SendError{Failure: flows.SendRejected, Err: err}
	}
	return a.render(ctx, chatID, lang, flows.AnyVersion, r, func(call func() error) error { return call() })
}

// classify turns a Bot API error into a *flows.SendError.
func (a *Adapter) classify(ctx context.Context, chatID int64, err error) error {
	var se *flows.SendError
	if errors.As(err, &se) {
		return err
	}
	var tmr *tg.TooManyRequestsError
	switch {
	case errors.As(err, &tmr):
		wait := time.Duration(tmr.RetryAfter) * time.Second
		if wait <= 0 {
			wait = time.Second
		}
		return &flows.SendError{Failure: flows.SendRetryLater, RetryAfter: wait, Err: err}
	case errors.Is(err, tg.ErrorForbidden):
		if a.links != nil {
			if derr := a.links.DeactivateLink(context.WithoutCancel(ctx), chatID); derr != nil && !flows.IsCode(derr, flows.NotFound) {
				a.log.Warn("deactivate link", "chat", chatID, "err", derr)
			}
		}
		return &flows.SendError{Failure: flows.SendBlocked, Err: err}
	case errors.Is(err, tg.ErrorBadRequest), errors.Is(err, tg.ErrorUnauthorized), errors.Is(err, tg.ErrorNotFound):
		return &flows.SendError{Failure: flows.SendRejected, Err: err}
	}
	return &flows.SendError{Failure: flows.SendTransient, Err: err}
}
