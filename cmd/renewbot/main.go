// Command renewbot runs the certificate renewal chatbot.
//
//	renewbot serve              the bot (long polling, or webhook with WEBHOOK_URL) + HTTP server
//	renewbot sandbox            the same bot against a local Telegram sandbox + web chat
//	renewbot migrate            apply the embedded database migrations
//	renewbot import FILE.csv... load customers, certificates, packages, promo codes
//
// Configuration comes from environment variables only (see README.md).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // TZ must work on machines without zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], environ(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "renewbot:", err)
		os.Exit(1)
	}
}

func environ() map[string]string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

const usage = `usage: renewbot serve | sandbox | migrate | import FILE.csv...`

func run(ctx context.Context, args []string, environ map[string]string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", usage)
	}
	cfg, err := loadConfig(environ)
	if err != nil {
		return err
	}
	switch args[0] {
	case "serve":
		if cfg.TelegramToken == "" {
			return fmt.Errorf("config: TELEGRAM_TOKEN: required for serve (use 'renewbot sandbox' to run without Telegram)")
		}
		return serve(ctx, cfg, stdout)
	case "sandbox":
		return runSandbox(ctx, cfg, stdout)
	case "migrate":
		db, err := openDB(ctx, cfg)
		if err != nil {
			return err
		}
		db.Close()
		fmt.Fprintln(stdout, "migrations applied")
		return nil
	case "import":
		return runImport(ctx, cfg, args[1:], stdout)
	}
	return fmt.Errorf("unknown command %q; %s", args[0], usage)
}
