package sandbox

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"time"
)

// deliver POSTs pending updates, oldest first, to the webhook of generation gen,
// until the webhook changes or the server closes. A non-2xx answer or a network
// error is retried with exponential backoff (Config.WebhookRetryMin..Max); the
// update is dropped only after a 2xx answer.
func (s *Server) deliver(gen int64) {
	defer s.wg.Done()
	client := &http.Client{Timeout: 60 * time.Second}
	backoff := s.cfg.WebhookRetryMin
	for {
		s.mu.Lock()
		if s.webhook.gen != gen || s.ctx.Err() != nil {
			s.mu.Unlock()
			return
		}
		if len(s.updates) == 0 {
			ch := s.changed
			s.mu.Unlock()
			select {
			case <-ch:
			case <-s.ctx.Done():
				return
			}
			continue
		}
		u := s.updates[0]
		url, secret := s.webhook.url, s.webhook.secret
		s.mu.Unlock()

		err := postUpdate(s, client, url, secret, u.raw)

		s.mu.Lock()
		if s.webhook.gen != gen {
			s.mu.Unlock()
			return
		}
		if err == nil {
			if len(s.updates) > 0 && s.updates[0].id == u.id {
				s.updates = s.updates[1:]
			}
			backoff = s.cfg.WebhookRetryMin
			s.notifyLocked()
			s.mu.Unlock()
			continue
		}
		s.webhook.lastErr, s.webhook.lastErrAt = err.Error(), time.Now()
		s.mu.Unlock()
		select {
		case <-time.After(backoff):
		case <-s.ctx.Done():
			return
		}
		backoff = min(backoff*2, s.cfg.WebhookRetryMax)
	}
}

func postUpdate(s *Server, client *http.Client, url, secret string, body []byte) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("Connection refused")
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("Wrong response from the webhook: %s", resp.Status)
	}
	return nil
}
