package vietqr

import (
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// PNG renders payload as a size×size pixel PNG QR code with medium error
// recovery (about 15% of the symbol may be damaged and still scan).
func PNG(payload string, size int) ([]byte, error) {
	if payload == "" {
		return nil, fmt.Errorf("%w: empty payload", ErrInvalid)
	}
	if size <= 0 {
		return nil, fmt.Errorf("%w: image size %d must be positive", ErrInvalid, size)
	}
	png, err := qrcode.Encode(payload, qrcode.Medium, size)
	if err != nil {
		return nil, fmt.Errorf("vietqr: render QR: %w", err)
	}
	return png, nil
}
