package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/multipart"
	"net/smtp"
	"net/textproto"

	"github.com/renewbot/renewbot/flows"
)

// smtpMailer sends flows.Mail over plain SMTP (a relay on the provider's
// network, or the sandbox mailbox).
type smtpMailer struct {
	addr string
	from string
}

func (m *smtpMailer) SendMail(ctx context.Context, mail flows.Mail) error {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fmt.Fprintf(&body, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=%s\r\n\r\n",
		m.from, mail.To, mime.QEncoding.Encode("utf-8", mail.Subject), w.Boundary())
	part, err := w.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}, "Content-Transfer-Encoding": {"base64"}})
	if err != nil {
		return err
	}
	part.Write([]byte(wrap76(base64.StdEncoding.EncodeToString([]byte(mail.Body)))))
	for _, a := range mail.Attachments {
		p, err := w.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {a.MIME},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})},
		})
		if err != nil {
			return err
		}
		p.Write([]byte(wrap76(base64.StdEncoding.EncodeToString(a.Data))))
	}
	w.Close()
	errc := make(chan error, 1)
	go func() { errc <- smtp.SendMail(m.addr, nil, m.from, []string{mail.To}, body.Bytes()) }()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("smtp to %s: %w", flows.MaskEmail(mail.To), err)
		}
		return nil
	}
}

func wrap76(s string) string {
	var b bytes.Buffer
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s + "\r\n")
	return b.String()
}
