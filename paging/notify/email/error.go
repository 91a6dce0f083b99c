package email

import (
	"errors"
	"net/textproto"

	gomail "github.com/wneessen/go-mail"
)

// sendError is every error Send returns: its text, already free of the
// password, and whether sending the same message again could succeed.
type sendError struct {
	msg       string
	code      int // the relay's reply code, 0 when it gave none
	permanent bool
	err       error
}

func (e *sendError) Error() string { return e.msg }
func (e *sendError) Unwrap() error { return e.err }

// Permanent reports whether err, from Send, will not go away by itself:
// the relay refused with a 5xx reply (550 mailbox unavailable, 553 bad
// address, 535 authentication failed, ...) or the recipient is not an
// address at all. Replies of 4xx, refused connections and timeouts are
// temporary.
func Permanent(err error) bool {
	var e *sendError
	return errors.As(err, &e) && e.permanent
}

// replyCode finds the SMTP reply code in a go-mail error: a SendError
// carries it for MAIL, RCPT and DATA (and has no Unwrap), and the greeting,
// EHLO and AUTH fail with the *textproto.Error itself, wrapped.
func replyCode(err error) int {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}
