package sandbox

import (
	"context"
	"encoding/base64"
	"mime"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

func TestMailboxWithNetSMTP(t *testing.T) {
	mb := NewMailbox()
	addr, err := mb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mb.Close)

	subject := mime.BEncoding.Encode("UTF-8", "Mã xác thực gia hạn chứng thư số")
	pdf := []byte("%PDF-1.4 form")
	body := strings.Join([]string{
		"From: RenewBot <bot@renewbot.local>",
		"To: khach@example.vn",
		"Subject: " + subject,
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="XYZ"`,
		"",
		"--XYZ",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: quoted-printable",
		"",
		"M=C3=A3 OTP c=E1=BB=A7a b=E1=BA=A1n: 123456",
		".leading dot line",
		"--XYZ",
		`Content-Type: application/pdf; name="don.pdf"`,
		`Content-Disposition: attachment; filename="don-gia-han.pdf"`,
		"Content-Transfer-Encoding: base64",
		"",
		base64.StdEncoding.EncodeToString(pdf),
		"--XYZ--",
		"",
	}, "\r\n")
	go func() {
		time.Sleep(50 * time.Millisecond)
		if err := smtp.SendMail(addr, nil, "bot@renewbot.local", []string{"khach@example.vn", "cc@example.vn"}, []byte(body)); err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := mb.WaitMail(ctx, "KHACH@example.vn")
	if err != nil {
		t.Fatal(err)
	}
	if m.From != "bot@renewbot.local" || len(m.To) != 2 || m.Subject != "Mã xác thực gia hạn chứng thư số" {
		t.Errorf("mail = %+v", m)
	}
	if !strings.Contains(m.Body, "Mã OTP của bạn: 123456") || !strings.Contains(m.Body, "\n.leading dot line") {
		t.Errorf("body = %q", m.Body)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Name != "don-gia-han.pdf" || string(m.Attachments[0].Data) != string(pdf) {
		t.Errorf("attachments = %+v", m.Attachments)
	}
	// WaitMail returns each mail once.
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := mb.WaitMail(short, "khach@example.vn"); err == nil {
		t.Error("the same mail was returned twice")
	}
	if cc, err := mb.WaitMail(ctx, "cc@example.vn"); err != nil || cc.ID != m.ID {
		t.Errorf("the mail must be returned once per recipient: %v", err)
	}
	if n := len(mb.Mails()); n != 1 {
		t.Errorf("mails = %d", n)
	}
}
