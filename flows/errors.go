package flows

import (
	"errors"
	"fmt"
)

// Code is the small set of error kinds every room agrees on. Storage translates
// driver errors into these once, at its boundary; the bot decides from the code
// whether the customer may see the message (everything but Internal).
type Code string

const (
	Invalid            Code = "invalid"
	NotFound           Code = "not_found"
	Conflict           Code = "conflict"
	FailedPrecondition Code = "failed_precondition"
	Unauthorized       Code = "unauthorized"
	Internal           Code = "internal"
)

// Error carries a Code, an optional catalogue message id for the customer, and
// the wrapped cause for the log.
type Error struct {
	Code  Code
	MsgID string // catalogue id shown to the user; empty means a generic text for Code
	Msg   string // developer text for the log
	Err   error
}

func (e *Error) Error() string {
	s := string(e.Code)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted developer message.
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Wrap wraps err with a code, keeping the chain for errors.Is/As.
func Wrap(code Code, err error, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the Code of the first *Error in err's chain, or Internal.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// IsCode reports whether err carries code.
func IsCode(err error, code Code) bool { return err != nil && ErrorCode(err) == code }
