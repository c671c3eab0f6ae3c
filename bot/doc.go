// Package bot is the Telegram adapter: it turns Bot API updates into
// flows.Events, keeps one chat's updates in order and applies each once, and
// renders flows.Replies as Bot API calls (keyboards, callback data, files,
// translated texts). Only this package (and sandbox, which is a Bot API) knows
// Telegram types; the token and file download URLs never leave it.
package bot
