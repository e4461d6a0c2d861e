package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
)

const tenderColumns = `ar.code, t.round, t.opened_at, t.deadline, t.association, t.contact, t.municipality, coalesce(t.awarded_bid, 0), t.award_reason, t.awarded_at, t.closed_at`

func scanTender(row pgx.Row) (pledge.Tender, error) {
	var t pledge.Tender
	var round int32
	if err := row.Scan(&t.AreaCode, &round, &t.OpenedAt, &t.Deadline, &t.Association, &t.Contact, &t.Municipality, &t.AwardedBid, &t.AwardReason, &t.AwardedAt, &t.ClosedAt); err != nil {
		return t, formatError(err)
	}
	t.Round = int(round)
	t.OpenedAt = t.OpenedAt.UTC()
	t.Deadline = time.Date(t.Deadline.Year(), t.Deadline.Month(), t.Deadline.Day(), 0, 0, 0, 0, time.UTC)
	utcPtr(t.AwardedAt)
	utcPtr(t.ClosedAt)
	return t, nil
}

func utcPtr(t *time.Time) {
	if t != nil {
		*t = t.UTC()
	}
}

type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// currentTender is the latest round's tender of area id.
func currentTender(ctx context.Context, q rowQuerier, areaID int64, lock bool) (pledge.Tender, bool, error) {
	sql := `SELECT ` + tenderColumns + ` FROM tenders t JOIN areas ar ON ar.id = t.area_id WHERE t.area_id = $1 ORDER BY t.round DESC LIMIT 1`
	if lock {
		sql += ` FOR UPDATE OF t`
	}
	t, err := scanTender(q.QueryRow(ctx, sql, areaID))
	if pledge.ErrorCode(err) == pledge.ENOTFOUND {
		return pledge.Tender{}, false, nil
	}
	return t, err == nil, err
}

// Tender returns area code's latest tender.
func (s *Store) Tender(ctx context.Context, code string) (pledge.Tender, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, `SELECT id FROM areas WHERE code = $1`, code).Scan(&id); err != nil {
		return pledge.Tender{}, notFound(formatError(err), pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code))
	}
	t, ok, err := currentTender(ctx, s.pool, id, false)
	if err == nil && !ok {
		err = pledge.Errorf(pledge.ENOTFOUND, "area %s has no tender", code)
	}
	return t, err
}

// Tenders lists every area's latest tender.
func (s *Store) Tenders(ctx context.Context) ([]pledge.Tender, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (t.area_id) `+tenderColumns+` FROM tenders t JOIN areas ar ON ar.id = t.area_id
		ORDER BY t.area_id, t.round DESC`)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.Tender{}
	for rows.Next() {
		t, err := scanTender(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, formatError(rows.Err())
}

// lockArea reads area code FOR UPDATE: tender changes and bids serialise
// on the area row, as pledges do.
func lockArea(ctx context.Context, tx pgx.Tx, code string) (pledge.Area, error) {
	a, err := scanArea(tx.QueryRow(ctx, `SELECT `+areaColumns+` FROM areas WHERE code = $1 FOR UPDATE`, code), false)
	if pledge.ErrorCode(err) == pledge.ENOTFOUND {
		return a, pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code)
	}
	return a, err
}

// ChangeTender runs change on the locked area and tender and writes its
// result, in one transaction.
func (s *Store) ChangeTender(ctx context.Context, code string, change func(pledge.Area, pledge.Tender, bool) (pledge.TenderChange, error)) (pledge.Area, pledge.Tender, error) {
	var a pledge.Area
	var t pledge.Tender
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if a, err = lockArea(ctx, tx, code); err != nil {
			return err
		}
		cur, found, err := currentTender(ctx, tx, a.ID, true)
		if err != nil {
			return err
		}
		ch, err := change(a, cur, found)
		if err != nil {
			return err
		}
		if ch.Status != "" && ch.Status != a.Status {
			if _, err := tx.Exec(ctx, `UPDATE areas SET status = $1 WHERE id = $2`, string(ch.Status), a.ID); err != nil {
				return formatError(err)
			}
			a.Status = ch.Status
		}
		t = ch.Tender
		if t.Round > 0 {
			var awarded *int64
			if t.AwardedBid != 0 {
				awarded = &t.AwardedBid
			}
			_, err := tx.Exec(ctx, `INSERT INTO tenders (area_id, round, opened_at, deadline, association, contact, municipality, awarded_bid, award_reason, awarded_at, closed_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
				ON CONFLICT (area_id, round) DO UPDATE SET deadline = excluded.deadline, association = excluded.association, contact = excluded.contact, municipality = excluded.municipality,
					awarded_bid = excluded.awarded_bid, award_reason = excluded.award_reason, awarded_at = excluded.awarded_at, closed_at = excluded.closed_at`,
				a.ID, t.Round, t.OpenedAt, t.Deadline.Format(time.DateOnly), t.Association, t.Contact, t.Municipality, awarded, t.AwardReason, t.AwardedAt, t.ClosedAt)
			if err != nil {
				return formatError(err)
			}
			t.AreaCode = code
		}
		for id, st := range ch.Bids {
			if _, err := tx.Exec(ctx, `UPDATE bids SET status = $1 WHERE id = $2 AND area_id = $3`, string(st), id, a.ID); err != nil {
				return formatError(err)
			}
		}
		for _, e := range ch.Events {
			if err := insertEvent(ctx, tx, e); err != nil {
				return err
			}
		}
		if ch.Audit.Action != "" {
			return insertAudit(ctx, tx, ch.Audit)
		}
		return nil
	})
	if err != nil {
		return pledge.Area{}, pledge.Tender{}, err
	}
	return a, t, nil
}

const bidColumns = `b.id, ar.code, b.round, b.company, b.user_id, b.status, b.price_per_connection, b.household_contribution,
	b.timeline_months, b.open_access, b.notes, b.revision, b.created_at, b.updated_at, ba.name, ba.size, ba.sha256`

const bidFrom = ` FROM bids b JOIN areas ar ON ar.id = b.area_id LEFT JOIN bid_attachments ba ON ba.id = b.attachment_id `

func scanBid(row pgx.Row) (pledge.Bid, error) {
	var b pledge.Bid
	var round, months, rev int32
	var name, sha *string
	var size *int32
	err := row.Scan(&b.ID, &b.AreaCode, &round, &b.Company, &b.UserID, &b.Status, &b.PricePerConnection, &b.HouseholdContribution,
		&months, &b.OpenAccess, &b.Notes, &rev, &b.CreatedAt, &b.UpdatedAt, &name, &size, &sha)
	if err != nil {
		return b, formatError(err)
	}
	b.Round, b.TimelineMonths, b.Revision = int(round), int(months), int(rev)
	b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	if name != nil {
		b.Attachment = &pledge.BidAttachmentInfo{Name: *name, Size: int(*size), SHA256: *sha}
	}
	return b, nil
}

// SaveBid writes a bid revision after check, in one transaction on the
// locked area.
func (s *Store) SaveBid(ctx context.Context, b *pledge.Bid, att []byte, check func(pledge.Area, pledge.Tender, pledge.Bid) error, audit pledge.AuditEntry) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := lockArea(ctx, tx, b.AreaCode)
		if err != nil {
			return err
		}
		t, _, err := currentTender(ctx, tx, a.ID, false)
		if err != nil {
			return err
		}
		var cur pledge.Bid
		var attID *int64
		if b.ID == 0 {
			cur, err = scanBid(tx.QueryRow(ctx, `SELECT `+bidColumns+bidFrom+`WHERE b.area_id = $1 AND b.round = $2 AND b.company = $3 AND b.status = 'submitted'`, a.ID, t.Round, b.Company))
		} else {
			cur, err = scanBid(tx.QueryRow(ctx, `SELECT `+bidColumns+bidFrom+`WHERE b.id = $1 AND b.area_id = $2 FOR UPDATE OF b`, b.ID, a.ID))
			if pledge.ErrorCode(err) == pledge.ENOTFOUND {
				return pledge.Errorf(pledge.ENOTFOUND, "no bid %d", b.ID)
			}
			if err == nil {
				err = formatError(tx.QueryRow(ctx, `SELECT attachment_id FROM bids WHERE id = $1`, b.ID).Scan(&attID))
			}
		}
		if err != nil && pledge.ErrorCode(err) != pledge.ENOTFOUND {
			return err
		}
		if err := check(a, t, cur); err != nil {
			return err
		}
		if att != nil && b.Attachment != nil {
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO bid_attachments (name, size, sha256, data) VALUES ($1, $2, $3, $4) RETURNING id`,
				b.Attachment.Name, len(att), b.Attachment.SHA256, att).Scan(&id); err != nil {
				return formatError(err)
			}
			attID = &id
		} else if b.Attachment == nil {
			attID = nil
		}
		if b.ID == 0 {
			b.Round, b.Revision, b.CreatedAt = t.Round, 1, b.UpdatedAt
			err := tx.QueryRow(ctx, `INSERT INTO bids (area_id, round, company, user_id, status, price_per_connection, household_contribution,
				timeline_months, open_access, notes, attachment_id, revision, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12) RETURNING id`,
				a.ID, b.Round, b.Company, b.UserID, string(b.Status), b.PricePerConnection, b.HouseholdContribution, b.TimelineMonths, b.OpenAccess, b.Notes, attID, b.UpdatedAt).Scan(&b.ID)
			if err != nil {
				return formatError(err)
			}
		} else {
			b.Revision, b.CreatedAt = cur.Revision+1, cur.CreatedAt
			_, err := tx.Exec(ctx, `UPDATE bids SET user_id = $1, status = $2, price_per_connection = $3, household_contribution = $4, timeline_months = $5,
				open_access = $6, notes = $7, attachment_id = $8, revision = $9, updated_at = $10 WHERE id = $11`,
				b.UserID, string(b.Status), b.PricePerConnection, b.HouseholdContribution, b.TimelineMonths, b.OpenAccess, b.Notes, attID, b.Revision, b.UpdatedAt, b.ID)
			if err != nil {
				return formatError(err)
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO bid_revisions (bid_id, revision, user_id, status, price_per_connection, household_contribution,
			timeline_months, open_access, notes, attachment_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			b.ID, b.Revision, b.UserID, string(b.Status), b.PricePerConnection, b.HouseholdContribution, b.TimelineMonths, b.OpenAccess, b.Notes, attID, b.UpdatedAt)
		if err != nil {
			return formatError(err)
		}
		if audit.Target == "bid:new" {
			audit.Target = "bid:" + strconv.FormatInt(b.ID, 10)
		}
		return insertAudit(ctx, tx, audit)
	})
}

// Bid returns bid id's latest revision.
func (s *Store) Bid(ctx context.Context, id int64) (pledge.Bid, error) {
	b, err := scanBid(s.pool.QueryRow(ctx, `SELECT `+bidColumns+bidFrom+`WHERE b.id = $1`, id))
	return b, notFound(err, pledge.Errorf(pledge.ENOTFOUND, "no bid %d", id))
}

func collectBids(rows pgx.Rows, err error) ([]pledge.Bid, error) {
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []pledge.Bid{}
	for rows.Next() {
		b, err := scanBid(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, formatError(rows.Err())
}

// Bids lists a round's bids, of one company unless it is "".
func (s *Store) Bids(ctx context.Context, code string, round int, company string) ([]pledge.Bid, error) {
	return collectBids(s.pool.Query(ctx, `SELECT `+bidColumns+bidFrom+`WHERE ar.code = $1 AND b.round = $2 AND ($3 = '' OR b.company = $3) ORDER BY b.id`, code, round, company))
}

// BidRevisions lists bid id's revisions, oldest first.
func (s *Store) BidRevisions(ctx context.Context, id int64) ([]pledge.Bid, error) {
	out, err := collectBids(s.pool.Query(ctx, `SELECT b.id, ar.code, b.round, b.company, r.user_id, r.status, r.price_per_connection, r.household_contribution,
		r.timeline_months, r.open_access, r.notes, r.revision, b.created_at, r.at, ba.name, ba.size, ba.sha256
		FROM bid_revisions r JOIN bids b ON b.id = r.bid_id JOIN areas ar ON ar.id = b.area_id LEFT JOIN bid_attachments ba ON ba.id = r.attachment_id
		WHERE r.bid_id = $1 ORDER BY r.revision`, id))
	if err == nil && len(out) == 0 {
		return nil, pledge.Errorf(pledge.ENOTFOUND, "no bid %d", id)
	}
	return out, err
}

// BidAttachment returns the bytes of bid id's attachment.
func (s *Store) BidAttachment(ctx context.Context, id int64) ([]byte, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT ba.data FROM bids b JOIN bid_attachments ba ON ba.id = b.attachment_id WHERE b.id = $1`, id).Scan(&data)
	return data, notFound(formatError(err), pledge.Errorf(pledge.ENOTFOUND, "bid %d has no attachment", id))
}
