package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/renewbot/renewbot/sandbox"
)

// runSandbox runs the whole product locally: the sandbox Bot API and web chat
// on SANDBOX_ADDR, an SMTP mailbox shown on the page, demo data when the
// database is empty, and the same bot code as serve pointed at the sandbox.
func runSandbox(ctx context.Context, cfg Config, stdout io.Writer) error {
	box := sandbox.NewMailbox()
	smtpAddr, err := box.Start("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("sandbox mailbox: %w", err)
	}
	httpLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR: %w", err)
	}
	public := cfg.PublicURL
	if public == "" {
		public = "http://" + httpLn.Addr().String()
	}
	if cfg.PaymentSecret == "" {
		cfg.PaymentSecret = "sandbox-payment-secret"
	}
	if cfg.OTPSecret == "" {
		cfg.OTPSecret = "sandbox-otp-secret"
	}
	users := make([]sandbox.DemoUser, 0, len(demoUsers))
	for _, u := range demoUsers {
		users = append(users, sandbox.DemoUser{ID: u.TelegramID, FirstName: u.FirstName, LanguageCode: u.Lang, Phone: u.Phone, Label: u.Label})
	}
	staff := make([]sandbox.DemoUser, 0, len(demoStaff))
	for _, u := range demoStaff {
		staff = append(staff, sandbox.DemoUser{ID: u.TelegramID, FirstName: u.FirstName, LanguageCode: u.Lang, Label: u.Label})
	}
	sb := sandbox.New(sandbox.Config{
		Users:              users,
		StaffGroupID:       demoStaffChatID,
		StaffGroupTitle:    "Hỗ trợ khách hàng — eSign",
		StaffUsers:         staff,
		PaymentCallbackURL: public + "/payments/callback",
		PaymentSecret:      cfg.PaymentSecret,
		Mailbox:            box,
	})
	sbLn, err := net.Listen("tcp", cfg.SandboxAddr)
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("SANDBOX_ADDR: %w", err)
	}
	sbSrv := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go sbSrv.Serve(sbLn)
	defer func() {
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sbSrv.Shutdown(shut)
		box.Close()
	}()

	cfg.TelegramAPIURL = "http://" + sbLn.Addr().String()
	cfg.TelegramToken = sb.Token()
	cfg.StaffChatID = demoStaffChatID
	for _, u := range demoStaff {
		cfg.StaffUserIDs = append(cfg.StaffUserIDs, u.TelegramID)
	}
	if cfg.SMTPAddr == "" {
		cfg.SMTPAddr = smtpAddr
	}
	a, err := newApp(ctx, cfg, stdout, appOptions{})
	if err != nil {
		httpLn.Close()
		return err
	}
	loaded, err := loadDemo(ctx, a.db, a.clock.Now(), cfg.loc)
	if err != nil {
		a.close()
		httpLn.Close()
		return err
	}
	if loaded {
		a.log.Info("demo data loaded")
	}
	fmt.Fprintf(stdout, "\n  renewbot sandbox: open http://%s in a browser (web chat + staff group + mailbox)\n\n", sbLn.Addr())
	return a.run(ctx, httpLn)
}
