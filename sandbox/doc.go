// Package sandbox is a local Telegram Bot API server written for this project:
// the room that "pretends to be Telegram for tests and the local demo".
//
// A [Server] speaks the subset of the Bot API the bot uses, over real HTTP, with
// Telegram's documented behaviour and error shapes (getUpdates offsets and long
// polling, webhooks with a secret header, 4096-character messages, 64-byte callback
// data, the 20 MB getFile limit, 429 with retry_after, 403 for a user who blocked the
// bot). The real go-telegram/bot client is pointed at it with bot.WithServerURL.
//
// Tests act as Telegram users through [User] and [Group] (send text, share a
// contact, upload photos and documents, press inline buttons) and read back what the
// bot sent. People use the same server through a web chat page served at "/" by
// [Server.Handler]. [Mailbox] is a tiny SMTP sink shown on that page too.
//
// All state lives in memory behind one mutex: this is a test double of Telegram,
// not a database. The package imports nothing of ours.
package sandbox
