package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/renewbot/renewbot/bot"
	"github.com/renewbot/renewbot/flows"
	"github.com/renewbot/renewbot/payments"
	"github.com/renewbot/renewbot/scheduler"
	"github.com/renewbot/renewbot/storage/postgres"
	"github.com/renewbot/renewbot/storage/redisstate"
)

// app is the wired service: storage, the conversation engine, the Telegram
// adapter and the HTTP server.
type app struct {
	cfg    Config
	log    *slog.Logger
	db     *postgres.DB
	rs     *redisstate.Store
	engine *flows.Engine
	bot    *bot.Adapter
	sched  *scheduler.Scheduler
	clock  flows.Clock
	mailer flows.Mailer

	ownDB, ownRedis bool
}

// appOptions are the parts tests (and the sandbox) replace.
type appOptions struct {
	Clock  flows.Clock
	Mailer flows.Mailer
	// DB and Redis, when set, are used instead of opening DATABASE_URL and
	// REDIS_URL; the app does not close them.
	DB    *postgres.DB
	Redis *redisstate.Store
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv, ReplaceAttr: maskAttr}))
}

// maskAttr keeps personal data out of logs whatever a caller passes.
func maskAttr(_ []string, a slog.Attr) slog.Attr {
	switch strings.ToLower(a.Key) {
	case "phone":
		return slog.String(a.Key, flows.MaskPhone(a.Value.String()))
	case "email":
		return slog.String(a.Key, flows.MaskEmail(a.Value.String()))
	case "tax_code", "id_number":
		return slog.String(a.Key, flows.MaskID(a.Value.String()))
	}
	return a
}

func openDB(ctx context.Context, cfg Config) (*postgres.DB, error) {
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return db, nil
}

func newApp(ctx context.Context, cfg Config, stdout io.Writer, opts appOptions) (*app, error) {
	log := newLogger(stdout, cfg.LogLevel)
	a := &app{cfg: cfg, log: log, db: opts.DB, rs: opts.Redis, clock: opts.Clock, mailer: opts.Mailer,
		ownDB: opts.DB == nil, ownRedis: opts.Redis == nil}
	var err error
	if a.db == nil {
		if a.db, err = openDB(ctx, cfg); err != nil {
			return nil, err
		}
	}
	if a.rs == nil {
		if a.rs, err = redisstate.Open(ctx, cfg.RedisURL, cfg.RedisPrefix); err != nil {
			a.close()
			return nil, fmt.Errorf("open redis: %w", err)
		}
	}
	db, rs := a.db, a.rs
	if a.clock == nil {
		a.clock = flows.SystemClock{}
	}
	if a.mailer == nil && cfg.SMTPAddr != "" {
		a.mailer = &smtpMailer{addr: cfg.SMTPAddr, from: cfg.SMTPFrom}
	}
	files := &lateFiles{}
	a.engine, err = flows.NewEngine(flows.Deps{
		Customers:    db,
		Certificates: db,
		Catalog:      db,
		Orders:       db,
		Sessions:     rs,
		OTPs:         rs,
		Audit:        db,
		Mailer:       a.mailer,
		Files:        files,
		Clock:        a.clock,
		Loc:          cfg.loc,
		Support:      flows.Support{Hotline: cfg.SupportHotline, Email: cfg.SupportEmail},
		Bank:         flows.BankAccount{BIN: cfg.BankBIN, Number: cfg.BankAccount, Name: cfg.BankAccountName, BankName: cfg.BankName},
		OTPSecret:    cfg.OTPSecret,
	})
	if err != nil {
		a.close()
		return nil, err
	}
	cat, err := bot.NewCatalog()
	if err != nil {
		a.close()
		return nil, err
	}
	a.bot, err = bot.New(bot.Config{
		Token:         cfg.TelegramToken,
		APIURL:        strings.TrimRight(cfg.TelegramAPIURL, "/"),
		StaffChatID:   cfg.StaffChatID,
		WebhookSecret: cfg.WebhookSecret,
	}, a.engine, rs, rs, db, cat, log)
	if err != nil {
		a.close()
		return nil, err
	}
	files.a = a.bot
	policy := flows.DefaultReminderPolicy(cfg.loc)
	policy.Tiers, policy.QuietFrom, policy.QuietUntil = cfg.tiers, cfg.quietFrom, cfg.quietUntil
	// Broadcasts keep the reminders' quiet hours (QUIET_HOURS).
	broadcasts := flows.NewBroadcaster(db, a.clock, policy, db)
	a.bot.SetStaff(flows.StaffDesk{Engine: a.engine, Broadcasts: broadcasts}, cfg.StaffUserIDs, a.paymentLanded)
	a.sched, err = scheduler.New(scheduler.Config{Policy: policy, Loc: cfg.loc, Rate: cfg.SendRate, ChatRate: cfg.ChatRate, StaffChatID: cfg.StaffChatID},
		scheduler.Deps{Reminders: db, Outbox: db, Sender: a.bot, Limiter: rs, Leader: rs, Broadcasts: db, Clock: a.clock, Log: log})
	if err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// lateFiles breaks the construction cycle engine -> files -> bot -> engine.
type lateFiles struct{ a *bot.Adapter }

func (f *lateFiles) Download(ctx context.Context, fileID string, max int64) ([]byte, error) {
	return f.a.Download(ctx, fileID, max)
}

// paymentLanded tells the customer's chat (and staff, for problems) about a
// recorded payment.
func (a *app) paymentLanded(ctx context.Context, p flows.Payment, o flows.Order) {
	if p.Status == flows.PaymentUnmatched {
		a.bot.Deliver(ctx, a.cfg.StaffChatID, "vi", 0, []flows.Reply{flows.UnmatchedPayment(p)})
		return
	}
	l, err := a.db.LinkByCustomer(ctx, o.CustomerID)
	if err != nil {
		a.log.Warn("payment for a customer without chat", "order", o.Ref, "err", err)
		return
	}
	err = a.bot.Push(ctx, l.ChatID, func(ctx context.Context) (flows.Outcome, error) {
		return a.engine.PaymentLanded(ctx, l.ChatID, p, o)
	})
	if err != nil {
		a.log.Error("announce payment", "order", o.Ref, "err", err)
	}
}

func (a *app) close() {
	if a.rs != nil && a.ownRedis {
		a.rs.Close()
	}
	if a.db != nil && a.ownDB {
		a.db.Close()
	}
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.db.Ping(ctx); err != nil {
			http.Error(w, "postgres: unavailable", http.StatusServiceUnavailable)
			return
		}
		if err := a.rs.Ping(ctx); err != nil {
			http.Error(w, "redis: unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("POST /payments/callback", payments.NewHandler(a.cfg.PaymentSecret, a.db, a.paymentLanded, a.log))
	if a.cfg.WebhookURL != "" {
		mux.Handle("POST /telegram/webhook", a.bot.WebhookHandler())
	}
	return mux
}

// run serves HTTP and receives updates until ctx ends, then shuts down with
// a fresh timeout, waiting for in-flight updates.
func (a *app) run(ctx context.Context, ln net.Listener) error {
	defer a.close()
	srv := &http.Server{Handler: a.routes(), ReadHeaderTimeout: 10 * time.Second}
	ctx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	errc := make(chan error, 3)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	}()
	a.log.Info("http listening", "addr", ln.Addr().String())
	done := make(chan struct{})
	if a.cfg.WebhookURL == "" {
		go func() {
			defer close(done)
			if err := a.bot.Run(ctx); err != nil {
				errc <- err
			}
		}()
	} else {
		close(done)
	}
	schedDone := make(chan struct{})
	go func() {
		defer close(schedDone)
		if err := a.sched.Run(ctx); err != nil && ctx.Err() == nil {
			errc <- fmt.Errorf("scheduler: %w", err)
		}
	}()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancelRun() // stop the poller and the scheduler too when one part failed
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutdown); serr != nil {
		a.log.Warn("http shutdown", "err", serr)
	}
	<-done
	<-schedDone
	a.bot.Wait()
	return err
}

func serve(ctx context.Context, cfg Config, stdout io.Writer) error {
	cfg.logTo(stdout)
	a, err := newApp(ctx, cfg, stdout, appOptions{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		a.close()
		return fmt.Errorf("HTTP_ADDR: %w", err)
	}
	return a.run(ctx, ln)
}
