package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// Mail is one message received by a Mailbox.
type Mail struct {
	ID       int       `json:"id"`
	Received time.Time `json:"received"`
	// From and To are the SMTP envelope (MAIL FROM, RCPT TO).
	From string   `json:"from"`
	To   []string `json:"to"`
	// Subject is decoded from RFC 2047 when encoded.
	Subject string `json:"subject"`
	// Body is the text/plain part (or the HTML part when there is no plain one).
	Body        string       `json:"body"`
	HTML        string       `json:"html,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	Header      mail.Header  `json:"-"`
	Raw         []byte       `json:"-"`
}

// Attachment is a file attached to a Mail.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
	Data        []byte `json:"-"`
}

// Mailbox is a tiny SMTP sink: plain SMTP (HELO/EHLO, MAIL, RCPT, DATA, RSET,
// NOOP, QUIT), no authentication and no TLS, for tests and the local demo.
type Mailbox struct {
	mu       sync.Mutex
	mails    []Mail
	returned map[string]bool // "address/id" pairs WaitMail already returned
	changed  chan struct{}
	ln       net.Listener
	wg       sync.WaitGroup
	closed   bool
}

// NewMailbox returns an empty mailbox; call Start to accept SMTP connections.
func NewMailbox() *Mailbox {
	return &Mailbox{changed: make(chan struct{}), returned: map[string]bool{}}
}

// Start listens on addr ("127.0.0.1:0" for a free port) and returns host:port.
func (mb *Mailbox) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sandbox: mailbox listen %s: %w", addr, err)
	}
	mb.ln = ln
	mb.wg.Add(1)
	go func() {
		defer mb.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mb.wg.Add(1)
			go func() {
				defer mb.wg.Done()
				mb.serve(conn)
			}()
		}
	}()
	return ln.Addr().String(), nil
}

// Close stops accepting connections and waits for open sessions to end.
func (mb *Mailbox) Close() {
	mb.mu.Lock()
	mb.closed = true
	mb.mu.Unlock()
	if mb.ln != nil {
		_ = mb.ln.Close()
	}
	mb.wg.Wait()
}

// Mails returns the mails received so far, oldest first.
func (mb *Mailbox) Mails() []Mail {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]Mail(nil), mb.mails...)
}

// WaitMail waits for a mail to the address to (case-insensitive; "" = any) that
// no earlier WaitMail for the same address returned, and returns it.
func (mb *Mailbox) WaitMail(ctx context.Context, to string) (Mail, error) {
	for {
		mb.mu.Lock()
		for _, m := range mb.mails {
			key := fmt.Sprintf("%s/%d", strings.ToLower(to), m.ID)
			if mb.returned[key] || !mailTo(m, to) {
				continue
			}
			mb.returned[key] = true
			mb.mu.Unlock()
			return m, nil
		}
		ch := mb.changed
		n := len(mb.mails)
		mb.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Mail{}, fmt.Errorf("sandbox: no mail to %q (%d mails in the box): %w", to, n, ctx.Err())
		}
	}
}

func mailTo(m Mail, to string) bool {
	if to == "" {
		return true
	}
	for _, r := range m.To {
		if strings.EqualFold(r, to) {
			return true
		}
	}
	return false
}

func (mb *Mailbox) add(m Mail) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	m.ID = len(mb.mails) + 1
	mb.mails = append(mb.mails, m)
	close(mb.changed)
	mb.changed = make(chan struct{})
}

func (mb *Mailbox) serve(conn net.Conn) {
	defer conn.Close()
	tp := textproto.NewConn(conn)
	reply := func(format string, args ...any) bool {
		_ = conn.SetDeadline(time.Now().Add(time.Minute))
		return tp.PrintfLine(format, args...) == nil
	}
	if !reply("220 sandbox.local ESMTP renewbot sandbox mailbox") {
		return
	}
	var from string
	var to []string
	for {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Minute))
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "HELO":
			reply("250 sandbox.local")
		case "EHLO":
			reply("250-sandbox.local greets %s", arg)
			reply("250-8BITMIME")
			reply("250-SMTPUTF8")
			reply("250 SIZE 52428800")
		case "MAIL":
			from = addrArg(arg, "FROM:")
			to = nil
			reply("250 2.1.0 OK")
		case "RCPT":
			to = append(to, addrArg(arg, "TO:"))
			reply("250 2.1.5 OK")
		case "DATA":
			if len(to) == 0 {
				reply("503 5.5.1 RCPT first")
				continue
			}
			reply("354 End data with <CR><LF>.<CR><LF>")
			raw, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			mb.add(parseMail(from, to, raw))
			reply("250 2.0.0 OK queued")
			from, to = "", nil
		case "RSET":
			from, to = "", nil
			reply("250 2.0.0 OK")
		case "NOOP":
			reply("250 2.0.0 OK")
		case "QUIT":
			reply("221 2.0.0 Bye")
			return
		default:
			reply("502 5.5.2 command not implemented")
		}
	}
}

// addrArg extracts the address of "FROM:<a@b> SIZE=1".
func addrArg(arg, prefix string) string {
	arg = strings.TrimSpace(arg)
	if len(arg) >= len(prefix) && strings.EqualFold(arg[:len(prefix)], prefix) {
		arg = strings.TrimSpace(arg[len(prefix):])
	}
	if i := strings.IndexByte(arg, '>'); strings.HasPrefix(arg, "<") && i > 0 {
		return arg[1:i]
	}
	if f := strings.Fields(arg); len(f) > 0 {
		return f[0]
	}
	return arg
}

var wordDecoder = &mime.WordDecoder{}

func parseMail(from string, to []string, raw []byte) Mail {
	m := Mail{Received: time.Now(), From: from, To: to, Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.Body = string(raw)
		return m
	}
	m.Header = msg.Header
	m.Subject = msg.Header.Get("Subject")
	if dec, err := wordDecoder.DecodeHeader(m.Subject); err == nil {
		m.Subject = dec
	}
	walkPart(&m, textproto.MIMEHeader(msg.Header), msg.Body)
	if m.Body == "" && m.HTML != "" {
		m.Body = m.HTML
	}
	return m
}

func walkPart(m *Mail, h textproto.MIMEHeader, body io.Reader) {
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		ct = "text/plain"
	}
	if strings.HasPrefix(ct, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walkPart(m, p.Header, p)
		}
	}
	data, _ := io.ReadAll(decodeTransfer(h.Get("Content-Transfer-Encoding"), body))
	name := ""
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		name = dp["filename"]
	}
	if name == "" {
		name = params["name"]
	}
	if dec, err := wordDecoder.DecodeHeader(name); err == nil {
		name = dec
	}
	disp := strings.ToLower(h.Get("Content-Disposition"))
	switch {
	case name != "" || strings.HasPrefix(disp, "attachment"):
		m.Attachments = append(m.Attachments, Attachment{Name: name, ContentType: ct, Size: len(data), Data: data})
	case ct == "text/plain" && m.Body == "":
		m.Body = string(data)
	case ct == "text/html" && m.HTML == "":
		m.HTML = string(data)
	}
}

func decodeTransfer(enc string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &stripNewlines{r: bufio.NewReader(r)})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// stripNewlines drops CR and LF so base64 lines decode as one stream.
type stripNewlines struct{ r io.Reader }

func (s *stripNewlines) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, b := range p[:n] {
			if b != '\r' && b != '\n' && b != ' ' && b != '\t' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
