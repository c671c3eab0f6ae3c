package postgres

import "time"

// Converters between the domain's zero values and SQL NULL.

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func timeOf(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return *p
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func idOf(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func textOf(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
