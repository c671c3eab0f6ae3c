package bot

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/renewbot/renewbot/flows"
)

// Download implements flows.Files with getFile and the file URL, which holds
// the token and so never leaves this package.
func (a *Adapter) Download(ctx context.Context, fileID string, max int64) ([]byte, error) {
	f, err := a.api.GetFile(ctx, &tg.GetFileParams{FileID: fileID})
	if err != nil {
		if tgErrTooBig(err) {
			return nil, flows.Errorf(flows.Invalid, "file too big")
		}
		return nil, fmt.Errorf("getFile: %w", err)
	}
	if f.FileSize > max {
		return nil, flows.Errorf(flows.Invalid, "file of %d bytes over %d", f.FileSize, max)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.api.FileDownloadLink(f), nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download file: request failed")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download file: status %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("download file: %w", err)
	}
	if int64(len(data)) > max {
		return nil, flows.Errorf(flows.Invalid, "file over %d bytes", max)
	}
	return data, nil
}

func tgErrTooBig(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "file is too big")
}

// Push runs fn under the chat's lock (so it is ordered with the chat's own
// updates) and delivers what it produces: for events that do not come from
// the chat, such as a payment landing.
func (a *Adapter) Push(ctx context.Context, chatID int64, fn func(ctx context.Context) (flows.Outcome, error)) error {
	a.inFlight.Add(1)
	defer a.inFlight.Done()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.UpdateTimeout)
	defer cancel()
	unlock, err := a.locks.LockChat(ctx, chatID, a.cfg.UpdateTimeout+5*time.Second)
	if err != nil {
		return fmt.Errorf("lock chat %d: %w", chatID, err)
	}
	defer unlock(context.WithoutCancel(ctx))
	out, err := fn(ctx)
	if err != nil {
		return err
	}
	lang := out.Session.Lang
	if lang == "" {
		lang = "vi"
	}
	a.Deliver(ctx, chatID, lang, out.Session.Version, out.Replies)
	if a.cfg.StaffChatID != 0 && len(out.Staff) > 0 {
		a.Deliver(ctx, a.cfg.StaffChatID, "vi", 0, out.Staff)
	}
	return nil
}
