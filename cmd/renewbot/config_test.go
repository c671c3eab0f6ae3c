package main

import (
	"strings"
	"testing"
)

func TestConfigErrorsNameTheVariable(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1:5432/db", "REDIS_URL": "redis://127.0.0.1:6379/0"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		if v == "<unset>" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct{ key, value string }{
		{"DATABASE_URL", "<unset>"},
		{"REDIS_URL", "<unset>"},
		{"REDIS_URL", "not a url"},
		{"TZ", "Mars/Olympus"},
		{"STAFF_CHAT_ID", "abc"},
		{"STAFF_USER_IDS", "1,x"},
		{"TELEGRAM_TOKEN", "no-colon"},
		{"WEBHOOK_URL", "https://example.org/hook"}, // without WEBHOOK_SECRET
		{"BANK_BIN", "12"},
	}
	for _, tt := range tests {
		_, err := loadConfig(with(tt.key, tt.value))
		if err == nil {
			t.Errorf("%s=%q accepted", tt.key, tt.value)
			continue
		}
		name := tt.key
		if tt.key == "WEBHOOK_URL" {
			name = "WEBHOOK_SECRET"
		}
		if msg := err.Error(); !strings.Contains(msg, name) || strings.Contains(msg, "\n") {
			t.Errorf("%s=%q: error %q should be one line naming %s", tt.key, tt.value, msg, name)
		}
	}
	c, err := loadConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	if c.TZ != "Asia/Ho_Chi_Minh" || c.TelegramAPIURL != "https://api.telegram.org" || c.HTTPAddr != "127.0.0.1:8081" {
		t.Errorf("defaults: %+v", c)
	}
}

func TestRunWithoutTokenRefusesServe(t *testing.T) {
	err := run(t.Context(), []string{"serve"}, map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1:1/db", "REDIS_URL": "redis://127.0.0.1:1/0"}, nil)
	if err == nil || !strings.Contains(err.Error(), "TELEGRAM_TOKEN") {
		t.Fatalf("serve without a token: %v", err)
	}
}
