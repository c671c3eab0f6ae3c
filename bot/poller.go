package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// Run long-polls getUpdates until ctx ends. Unlike go-telegram/bot's own
// poller it advances the offset only after a batch is handled (a crash
// re-fetches it; dedupe drops what was already applied), and it applies one
// chat's updates one after the other, in update_id order, while different
// chats run concurrently.
func (a *Adapter) Run(ctx context.Context) error {
	if _, err := a.api.DeleteWebhook(ctx, &tg.DeleteWebhookParams{}); err != nil && ctx.Err() == nil {
		a.log.Warn("delete webhook before polling", "err", err)
	}
	var offset int64
	backoff := time.Second
	for ctx.Err() == nil {
		updates, err := a.getUpdates(ctx, offset)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			a.log.Warn("getUpdates", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = time.Second
		if len(updates) == 0 {
			continue
		}
		a.ApplyBatch(ctx, updates)
		offset = updates[len(updates)-1].ID + 1
	}
	a.Wait()
	return nil
}

// ApplyBatch applies updates grouped by chat: each chat's updates in order,
// chats in parallel. It returns when all are handled.
func (a *Adapter) ApplyBatch(ctx context.Context, updates []*models.Update) {
	groups := map[int64][]*models.Update{}
	var order []int64
	for _, u := range updates {
		id := chatOf(u)
		if _, ok := groups[id]; !ok {
			order = append(order, id)
		}
		groups[id] = append(groups[id], u)
	}
	var wg sync.WaitGroup
	for _, id := range order {
		wg.Go(func() {
			for _, u := range groups[id] {
				a.HandleUpdate(ctx, u)
			}
		})
	}
	wg.Wait()
}

func chatOf(u *models.Update) int64 {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message.Message != nil:
		return u.CallbackQuery.Message.Message.Chat.ID
	case u.CallbackQuery != nil:
		return u.CallbackQuery.From.ID
	}
	return 0
}

type getUpdatesResponse struct {
	OK          bool             `json:"ok"`
	Result      []*models.Update `json:"result"`
	Description string           `json:"description"`
	ErrorCode   int              `json:"error_code"`
}

func (a *Adapter) getUpdates(ctx context.Context, offset int64) ([]*models.Update, error) {
	body, _ := json.Marshal(map[string]any{
		"offset":          offset,
		"timeout":         int(a.cfg.PollTimeout / time.Second),
		"allowed_updates": []string{"message", "callback_query"},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.APIURL+"/bot"+a.cfg.Token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("getUpdates: %w", ue.Unwrap()) // the URL holds the token
		}
		return nil, errors.New("getUpdates: request failed")
	}
	defer resp.Body.Close()
	var r getUpdatesResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("getUpdates: decode: %w", err)
	}
	if !r.OK {
		return nil, fmt.Errorf("getUpdates: %d %s", r.ErrorCode, r.Description)
	}
	return r.Result, nil
}
