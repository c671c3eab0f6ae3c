package bot

import (
	"errors"

	"github.com/renewbot/renewbot/flows"
	"strconv"
	"strings"
)

// Callback data is "v1:<session version>:<action>[:<arg>...]", at most 64
// bytes (Telegram's limit). The version lets flows tell a press on an old
// keyboard from a current one; nothing in it is trusted: flows checks that
// every id belongs to the chat's customer.

const callbackPrefix = "v1"

// maxCallbackData is Telegram's limit on callback_data, in bytes.
const maxCallbackData = 64

var errCallback = errors.New("malformed callback data")

func encodeCallback(version int64, action string, args []string) (string, error) {
	v := strconv.FormatInt(version, 10)
	if version == flows.AnyVersion {
		v = "*"
	}
	parts := append([]string{callbackPrefix, v, action}, args...)
	for _, p := range parts[2:] {
		if p == "" && len(args) == 0 || strings.Contains(p, ":") {
			return "", errCallback
		}
	}
	s := strings.Join(parts, ":")
	if len(s) > maxCallbackData {
		return "", errCallback
	}
	return s, nil
}

func decodeCallback(s string) (version int64, action string, args []string, err error) {
	if len(s) > maxCallbackData {
		return 0, "", nil, errCallback
	}
	parts := strings.Split(s, ":")
	if len(parts) < 3 || parts[0] != callbackPrefix || parts[2] == "" {
		return 0, "", nil, errCallback
	}
	if parts[1] == "*" {
		version = flows.AnyVersion
	} else if version, err = strconv.ParseInt(parts[1], 10, 64); err != nil || version < 0 {
		return 0, "", nil, errCallback
	}
	for _, r := range parts[2] {
		if !(r >= 'a' && r <= 'z' || r == '_' || r >= '0' && r <= '9') {
			return 0, "", nil, errCallback
		}
	}
	return version, parts[2], parts[3:], nil
}
