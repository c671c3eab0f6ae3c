package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/renewbot/renewbot/flows"
)

// Config is every setting of the service, read from the environment only.
// README.md lists each variable with its default.
type Config struct {
	TelegramToken  string `env:"TELEGRAM_TOKEN"`
	TelegramAPIURL string `env:"TELEGRAM_API_URL" envDefault:"https://api.telegram.org"`
	WebhookURL     string `env:"WEBHOOK_URL"`    // empty: long polling
	WebhookSecret  string `env:"WEBHOOK_SECRET"` // required with WEBHOOK_URL

	DatabaseURL string `env:"DATABASE_URL,required"`
	RedisURL    string `env:"REDIS_URL,required"`
	RedisPrefix string `env:"REDIS_PREFIX" envDefault:"renewbot:"`

	HTTPAddr    string `env:"HTTP_ADDR" envDefault:"127.0.0.1:8081"`
	SandboxAddr string `env:"SANDBOX_ADDR" envDefault:"127.0.0.1:8080"`
	PublicURL   string `env:"PUBLIC_URL"` // how the sandbox reaches HTTP_ADDR; default http://HTTP_ADDR

	TZ string `env:"TZ" envDefault:"Asia/Ho_Chi_Minh"`

	StaffChatID  int64   `env:"STAFF_CHAT_ID"`                   // the staff (support) group
	StaffUserIDs []int64 `env:"STAFF_USER_IDS" envSeparator:","` // who may use staff commands

	SupportHotline string `env:"SUPPORT_HOTLINE" envDefault:"1900 1234"`
	SupportEmail   string `env:"SUPPORT_EMAIL" envDefault:"hotro@esign.example.vn"`

	PaymentSecret   string `env:"PAYMENT_SECRET"`
	BankBIN         string `env:"BANK_BIN" envDefault:"970436"`
	BankAccount     string `env:"BANK_ACCOUNT" envDefault:"0011004567890"`
	BankAccountName string `env:"BANK_ACCOUNT_NAME" envDefault:"CONG TY CP ESIGN DEMO"`
	BankName        string `env:"BANK_NAME" envDefault:"Vietcombank"`

	SMTPAddr  string `env:"SMTP_ADDR"` // host:port; empty in sandbox mode uses the sandbox mailbox
	SMTPFrom  string `env:"SMTP_FROM" envDefault:"renewbot@esign.example.vn"`
	OTPSecret string `env:"OTP_SECRET"`

	ReminderTiers string  `env:"REMINDER_TIERS" envDefault:"30,14,7,3,1,0,-3,-14"` // days before expiry, negative after
	QuietHours    string  `env:"QUIET_HOURS" envDefault:"21-8"`                    // local hours without proactive messages
	SendRate      float64 `env:"SEND_RATE" envDefault:"30"`                        // proactive messages per second, all chats, all instances
	ChatRate      float64 `env:"CHAT_RATE" envDefault:"1"`                         // proactive messages per second to one chat

	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`

	loc                   *time.Location
	tiers                 []flows.Tier
	quietFrom, quietUntil time.Duration
}

// loadConfig parses and validates the environment. Errors name the variable.
func loadConfig(environ map[string]string) (Config, error) {
	var c Config
	if err := env.ParseWithOptions(&c, env.Options{Environment: environ}); err != nil {
		var pe env.ParseError
		if errors.As(err, &pe) {
			return c, fmt.Errorf("config: %s: %v", envName(pe.Name), pe.Err)
		}
		var agg env.AggregateError
		if errors.As(err, &agg) && len(agg.Errors) > 0 {
			return c, fmt.Errorf("config: %v", agg.Errors[0])
		}
		return c, fmt.Errorf("config: %w", err)
	}
	loc, err := time.LoadLocation(c.TZ)
	if err != nil {
		return c, fmt.Errorf("config: TZ: unknown time zone %q", c.TZ)
	}
	c.loc = loc
	for name, v := range map[string]string{"TELEGRAM_API_URL": c.TelegramAPIURL, "DATABASE_URL": c.DatabaseURL, "REDIS_URL": c.RedisURL} {
		if u, err := url.Parse(v); err != nil || u.Scheme == "" || u.Host == "" {
			return c, fmt.Errorf("config: %s: not a URL", name)
		}
	}
	if c.WebhookURL != "" && c.WebhookSecret == "" {
		return c, errors.New("config: WEBHOOK_SECRET: required when WEBHOOK_URL is set")
	}
	if c.TelegramToken != "" && !strings.Contains(c.TelegramToken, ":") {
		return c, errors.New("config: TELEGRAM_TOKEN: malformed (expected <bot id>:<secret>)")
	}
	if c.tiers, err = flows.ParseTiers(c.ReminderTiers); err != nil {
		return c, fmt.Errorf("config: REMINDER_TIERS: %v", err)
	}
	var qf, qu int
	if n, err := fmt.Sscanf(c.QuietHours, "%d-%d", &qf, &qu); err != nil || n != 2 || qf < 0 || qf > 23 || qu < 0 || qu > 23 {
		return c, fmt.Errorf("config: QUIET_HOURS: want FROM-UNTIL hours, e.g. 21-8")
	}
	c.quietFrom, c.quietUntil = time.Duration(qf)*time.Hour, time.Duration(qu)*time.Hour
	if c.SendRate <= 0 || c.SendRate > 1000 {
		return c, errors.New("config: SEND_RATE: must be in (0, 1000]")
	}
	if c.ChatRate <= 0 || c.ChatRate > 30 {
		return c, errors.New("config: CHAT_RATE: must be in (0, 30]")
	}
	if len(c.BankBIN) != 6 {
		return c, errors.New("config: BANK_BIN: must be 6 digits")
	}
	return c, nil
}

// envName maps a Config field name to its environment variable.
func envName(field string) string {
	if f, ok := reflect.TypeFor[Config]().FieldByName(field); ok {
		name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		return name
	}
	return field
}

// logTo prints the configuration with secrets masked.
func (c Config) logTo(w io.Writer) {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "***"
	}
	fmt.Fprintf(w, "config: TELEGRAM_API_URL=%s TELEGRAM_TOKEN=%s DATABASE_URL=%s REDIS_URL=%s HTTP_ADDR=%s TZ=%s STAFF_CHAT_ID=%d WEBHOOK_URL=%s PAYMENT_SECRET=%s\n",
		c.TelegramAPIURL, mask(c.TelegramToken), redactURL(c.DatabaseURL), redactURL(c.RedisURL), c.HTTPAddr, c.TZ, c.StaffChatID, c.WebhookURL, mask(c.PaymentSecret))
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "***"
	}
	return u.Redacted()
}
