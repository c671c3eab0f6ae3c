package sandbox_test

import (
	"context"
	"fmt"
	"time"

	"github.com/go-telegram/bot"

	"github.com/renewbot/renewbot/sandbox"
)

// A test starts a sandbox, points the real client at it and plays the customer.
func Example() {
	s := sandbox.New(sandbox.Config{Users: []sandbox.DemoUser{{ID: 42, FirstName: "An", Phone: "+84900000042"}}})
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer s.Close()
	b, _ := bot.New(s.Token(), bot.WithServerURL(url), bot.WithSkipGetMe())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	customer := s.User(42)
	customer.Send("/start")
	// ... the bot under test would answer; here the client does it directly.
	_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 42, Text: "Xin chào An!"})
	m, err := customer.WaitFor(ctx, func(m sandbox.Message) bool { return m.Text != "" })
	fmt.Println(m.Text, err)
	// Output: Xin chào An! <nil>
}
