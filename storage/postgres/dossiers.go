package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/renewbot/renewbot/flows"
)

// MaxFileSize is the largest dossier file accepted: Telegram's getFile limit.
const MaxFileSize = 20 << 20

const dossierColumns = `id, order_id, method, status, signed_at, submitted_at, reject_reason, paper_collected`

type dossierRow struct {
	ID             int64
	OrderID        int64
	Method         string
	Status         string
	SignedAt       *time.Time
	SubmittedAt    *time.Time
	RejectReason   string
	PaperCollected bool
}

func scanDossier(row pgx.Row) (flows.Dossier, error) {
	var r dossierRow
	err := row.Scan(&r.ID, &r.OrderID, &r.Method, &r.Status, &r.SignedAt, &r.SubmittedAt,
		&r.RejectReason, &r.PaperCollected)
	if err != nil {
		return flows.Dossier{}, err
	}
	return r.dossier(), nil
}

func (r dossierRow) dossier() flows.Dossier {
	return flows.Dossier{
		ID: r.ID, OrderID: r.OrderID, Method: flows.SignMethod(r.Method),
		Status: flows.DossierStatus(r.Status), SignedAt: timeOf(r.SignedAt),
		SubmittedAt: timeOf(r.SubmittedAt), RejectReason: r.RejectReason,
		PaperCollected: r.PaperCollected,
	}
}

const dossierFileColumns = `id, dossier_id, kind, file_name, mime, size, sha256, storage_key,
	telegram_file_id, created_at`

type dossierFileRow struct {
	ID             int64
	DossierID      int64
	Kind           string
	FileName       string
	MIME           string
	Size           int64
	SHA256         string
	StorageKey     string
	TelegramFileID string
	CreatedAt      time.Time
}

func scanDossierFile(row pgx.Row) (flows.DossierFile, error) {
	var r dossierFileRow
	err := row.Scan(&r.ID, &r.DossierID, &r.Kind, &r.FileName, &r.MIME, &r.Size, &r.SHA256,
		&r.StorageKey, &r.TelegramFileID, &r.CreatedAt)
	if err != nil {
		return flows.DossierFile{}, err
	}
	return r.file(), nil
}

func (r dossierFileRow) file() flows.DossierFile {
	return flows.DossierFile{
		ID: r.ID, DossierID: r.DossierID, Kind: r.Kind, FileName: r.FileName, MIME: r.MIME,
		Size: r.Size, SHA256: r.SHA256, StorageKey: r.StorageKey,
		TelegramFileID: r.TelegramFileID, CreatedAt: r.CreatedAt,
	}
}

const sqlDossier = `SELECT ` + dossierColumns + ` FROM dossiers WHERE order_id = $1`

const sqlDossierFiles = `
SELECT ` + dossierFileColumns + ` FROM dossier_files WHERE dossier_id = $1 ORDER BY id`

// Dossier returns the order's dossier with its files' metadata (not their
// bytes: see DossierFileContent). NotFound.
func (db *DB) Dossier(ctx context.Context, orderID int64) (flows.Dossier, error) {
	d, err := scanDossier(db.pool.QueryRow(ctx, sqlDossier, orderID))
	if err != nil {
		return flows.Dossier{}, dbError(err, "dossier of order %d", orderID)
	}
	if d.Files, err = db.dossierFiles(ctx, d.ID); err != nil {
		return flows.Dossier{}, err
	}
	return d, nil
}

func (db *DB) dossierFiles(ctx context.Context, dossierID int64) ([]flows.DossierFile, error) {
	rows, _ := db.pool.Query(ctx, sqlDossierFiles, dossierID)
	files, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (flows.DossierFile, error) {
		return scanDossierFile(row)
	})
	if err != nil {
		return nil, dbError(err, "files of dossier %d", dossierID)
	}
	return files, nil
}

var (
	signMethods     = map[flows.SignMethod]bool{"": true, flows.SignOTP: true, flows.SignHand: true, flows.SignDigital: true}
	dossierStatuses = map[flows.DossierStatus]bool{flows.DossierCollecting: true, flows.DossierSubmitted: true, flows.DossierApproved: true, flows.DossierRejected: true}
)

// paper_collected_at records when staff first ticked the paper original off.
const sqlSaveDossier = `
INSERT INTO dossiers (order_id, method, status, signed_at, submitted_at, reject_reason,
	paper_collected, paper_collected_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $7 THEN now() END)
ON CONFLICT (order_id) DO UPDATE SET
	method = EXCLUDED.method,
	status = EXCLUDED.status,
	signed_at = EXCLUDED.signed_at,
	submitted_at = EXCLUDED.submitted_at,
	reject_reason = EXCLUDED.reject_reason,
	paper_collected = EXCLUDED.paper_collected,
	paper_collected_at = CASE
		WHEN NOT EXCLUDED.paper_collected THEN NULL
		ELSE COALESCE(dossiers.paper_collected_at, now()) END
RETURNING ` + dossierColumns

// SaveDossier creates or updates the order's dossier (one per order): method,
// status (empty means collecting), signed and submitted times, reject reason
// and paper collection. NotFound when the order does not exist; Invalid for an
// unknown method or status. Files are added with AddDossierFile.
func (db *DB) SaveDossier(ctx context.Context, d flows.Dossier) (flows.Dossier, error) {
	if d.Status == "" {
		d.Status = flows.DossierCollecting
	}
	if !signMethods[d.Method] || !dossierStatuses[d.Status] {
		return flows.Dossier{}, flows.Errorf(flows.Invalid, "save dossier of order %d: method %q, status %q", d.OrderID, d.Method, d.Status)
	}
	out, err := scanDossier(db.pool.QueryRow(ctx, sqlSaveDossier, d.OrderID, string(d.Method),
		string(d.Status), nullTime(d.SignedAt), nullTime(d.SubmittedAt), d.RejectReason, d.PaperCollected))
	if err != nil {
		return flows.Dossier{}, dbError(err, "save dossier of order %d", d.OrderID)
	}
	if out.Files, err = db.dossierFiles(ctx, out.ID); err != nil {
		return flows.Dossier{}, err
	}
	return out, nil
}

const sqlAddDossierFile = `
INSERT INTO dossier_files (dossier_id, kind, file_name, mime, size, sha256, storage_key, content,
	telegram_file_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING ` + dossierFileColumns

// AddDossierFile stores a file and its bytes; Size and SHA256 are computed
// from content. Invalid when over MaxFileSize or Kind is not photo or pdf;
// NotFound when the dossier does not exist.
func (db *DB) AddDossierFile(ctx context.Context, f flows.DossierFile, content []byte) (flows.DossierFile, error) {
	if len(content) > MaxFileSize {
		return flows.DossierFile{}, flows.Errorf(flows.Invalid, "add file to dossier %d: %d bytes, limit %d", f.DossierID, len(content), MaxFileSize)
	}
	if f.Kind != "photo" && f.Kind != "pdf" {
		return flows.DossierFile{}, flows.Errorf(flows.Invalid, "add file to dossier %d: kind %q", f.DossierID, f.Kind)
	}
	sum := sha256.Sum256(content)
	if content == nil {
		content = []byte{} // NOT NULL
	}
	out, err := scanDossierFile(db.pool.QueryRow(ctx, sqlAddDossierFile, f.DossierID, f.Kind,
		f.FileName, f.MIME, int64(len(content)), hex.EncodeToString(sum[:]), f.StorageKey,
		content, f.TelegramFileID))
	if err != nil {
		return flows.DossierFile{}, dbError(err, "add file to dossier %d", f.DossierID)
	}
	return out, nil
}

const sqlDossierFileContent = `SELECT ` + dossierFileColumns + `, content FROM dossier_files WHERE id = $1`

// DossierFileContent returns a file's metadata and bytes. NotFound.
func (db *DB) DossierFileContent(ctx context.Context, fileID int64) (flows.DossierFile, []byte, error) {
	var r dossierFileRow
	var content []byte
	err := db.pool.QueryRow(ctx, sqlDossierFileContent, fileID).Scan(&r.ID, &r.DossierID, &r.Kind,
		&r.FileName, &r.MIME, &r.Size, &r.SHA256, &r.StorageKey, &r.TelegramFileID, &r.CreatedAt, &content)
	if err != nil {
		return flows.DossierFile{}, nil, dbError(err, "load dossier file %d", fileID)
	}
	return r.file(), content, nil
}

const sqlSubmitOrder = `
UPDATE orders SET status = 'submitted', updated_at = now(), version = version + 1
WHERE id = $1
RETURNING ` + orderColumns

const sqlSubmitDossier = `
UPDATE dossiers SET status = 'submitted', submitted_at = $2, reject_reason = ''
WHERE order_id = $1`

// SubmitDossier marks the dossier submitted and the order submitted in one
// transaction (a fixed rejected dossier loses its reject reason). NotFound
// when the order does not exist; FailedPrecondition when the order is not
// paid or rejected, or has no dossier.
func (db *DB) SubmitDossier(ctx context.Context, orderID int64, at time.Time) (flows.Order, error) {
	if at.IsZero() {
		at = time.Now()
	}
	var out flows.Order
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		o, err := scanOrder(tx.QueryRow(ctx, sqlLockOrder, orderID))
		if err != nil {
			return err
		}
		if o.Status != flows.OrderPaid && o.Status != flows.OrderRejected {
			return flows.Errorf(flows.FailedPrecondition, "order is %s", o.Status)
		}
		tag, err := tx.Exec(ctx, sqlSubmitDossier, orderID, at)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return flows.Errorf(flows.FailedPrecondition, "order has no dossier")
		}
		out, err = scanOrder(tx.QueryRow(ctx, sqlSubmitOrder, orderID))
		return err
	})
	if err != nil {
		return flows.Order{}, dbError(err, "submit dossier of order %d", orderID)
	}
	return out, nil
}
