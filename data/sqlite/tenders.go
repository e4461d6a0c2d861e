package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

const tenderColumns = `ar.code, t.round, t.opened_at, t.deadline, t.association, t.contact, t.municipality, coalesce(t.awarded_bid, 0), t.award_reason, t.awarded_at, t.closed_at`

func scanTender(sc interface{ Scan(...any) error }) (pledge.Tender, error) {
	var t pledge.Tender
	var opened, deadline string
	var awarded, closed sql.NullString
	if err := sc.Scan(&t.AreaCode, &t.Round, &opened, &deadline, &t.Association, &t.Contact, &t.Municipality, &t.AwardedBid, &t.AwardReason, &awarded, &closed); err != nil {
		return t, formatError(err)
	}
	t.OpenedAt = parseTime(opened)
	t.Deadline, _ = time.Parse(time.DateOnly, deadline)
	if awarded.Valid {
		at := parseTime(awarded.String)
		t.AwardedAt = &at
	}
	if closed.Valid {
		at := parseTime(closed.String)
		t.ClosedAt = &at
	}
	return t, nil
}

// currentTender is the latest round's tender of area id.
func currentTender(ctx context.Context, q querier, areaID int64) (pledge.Tender, bool, error) {
	t, err := scanTender(q.QueryRowContext(ctx, `SELECT `+tenderColumns+` FROM tenders t JOIN areas ar ON ar.id = t.area_id
		WHERE t.area_id = ? ORDER BY t.round DESC LIMIT 1`, areaID))
	if pledge.ErrorCode(err) == pledge.ENOTFOUND {
		return pledge.Tender{}, false, nil
	}
	return t, err == nil, err
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tender returns area code's latest tender.
func (s *Store) Tender(ctx context.Context, code string) (pledge.Tender, error) {
	var id int64
	if err := s.db.QueryRowContext(ctx, `SELECT id FROM areas WHERE code = ?`, code).Scan(&id); err != nil {
		return pledge.Tender{}, notFound(formatError(err), pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code))
	}
	t, ok, err := currentTender(ctx, s.db, id)
	if err == nil && !ok {
		err = pledge.Errorf(pledge.ENOTFOUND, "area %s has no tender", code)
	}
	return t, err
}

// Tenders lists every area's latest tender.
func (s *Store) Tenders(ctx context.Context) ([]pledge.Tender, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tenderColumns+` FROM tenders t JOIN areas ar ON ar.id = t.area_id
		WHERE t.round = (SELECT max(round) FROM tenders WHERE area_id = t.area_id) ORDER BY ar.code`)
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

// ChangeTender runs change on the area and its tender in one immediate
// transaction (SQLite's single writer is the lock) and writes its result.
func (s *Store) ChangeTender(ctx context.Context, code string, change func(pledge.Area, pledge.Tender, bool) (pledge.TenderChange, error)) (pledge.Area, pledge.Tender, error) {
	var a pledge.Area
	var t pledge.Tender
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = scanArea(tx.QueryRowContext(ctx, `SELECT `+areaColumns+` FROM areas WHERE code = ?`, code), false)
		if pledge.ErrorCode(err) == pledge.ENOTFOUND {
			return pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code)
		} else if err != nil {
			return err
		}
		cur, found, err := currentTender(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		ch, err := change(a, cur, found)
		if err != nil {
			return err
		}
		if ch.Status != "" && ch.Status != a.Status {
			if _, err := tx.ExecContext(ctx, `UPDATE areas SET status = ? WHERE id = ?`, string(ch.Status), a.ID); err != nil {
				return formatError(err)
			}
			a.Status = ch.Status
		}
		t = ch.Tender
		if t.Round > 0 {
			var awarded any
			if t.AwardedBid != 0 {
				awarded = t.AwardedBid
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO tenders (area_id, round, opened_at, deadline, association, contact, municipality, awarded_bid, award_reason, awarded_at, closed_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (area_id, round) DO UPDATE SET deadline = excluded.deadline, association = excluded.association, contact = excluded.contact, municipality = excluded.municipality,
					awarded_bid = excluded.awarded_bid, award_reason = excluded.award_reason, awarded_at = excluded.awarded_at, closed_at = excluded.closed_at`,
				a.ID, t.Round, formatTime(t.OpenedAt), t.Deadline.Format(time.DateOnly), t.Association, t.Contact, t.Municipality, awarded, t.AwardReason, nullTime(t.AwardedAt), nullTime(t.ClosedAt))
			if err != nil {
				return formatError(err)
			}
			t.AreaCode = code
		}
		for id, st := range ch.Bids {
			if _, err := tx.ExecContext(ctx, `UPDATE bids SET status = ? WHERE id = ? AND area_id = ?`, string(st), id, a.ID); err != nil {
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

func scanBid(sc interface{ Scan(...any) error }) (pledge.Bid, error) {
	var b pledge.Bid
	var created, updated string
	var name, sha sql.NullString
	var size sql.NullInt64
	err := sc.Scan(&b.ID, &b.AreaCode, &b.Round, &b.Company, &b.UserID, &b.Status, &b.PricePerConnection, &b.HouseholdContribution,
		&b.TimelineMonths, &b.OpenAccess, &b.Notes, &b.Revision, &created, &updated, &name, &size, &sha)
	if err != nil {
		return b, formatError(err)
	}
	b.CreatedAt, b.UpdatedAt = parseTime(created), parseTime(updated)
	if name.Valid {
		b.Attachment = &pledge.BidAttachmentInfo{Name: name.String, Size: int(size.Int64), SHA256: sha.String}
	}
	return b, nil
}

// SaveBid writes a bid revision after check, in one immediate transaction.
func (s *Store) SaveBid(ctx context.Context, b *pledge.Bid, att []byte, check func(pledge.Area, pledge.Tender, pledge.Bid) error, audit pledge.AuditEntry) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		a, err := scanArea(tx.QueryRowContext(ctx, `SELECT `+areaColumns+` FROM areas WHERE code = ?`, b.AreaCode), false)
		if pledge.ErrorCode(err) == pledge.ENOTFOUND {
			return pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", b.AreaCode)
		} else if err != nil {
			return err
		}
		t, _, err := currentTender(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		var cur pledge.Bid
		var attID sql.NullInt64
		if b.ID == 0 {
			cur, err = scanBid(tx.QueryRowContext(ctx, `SELECT `+bidColumns+bidFrom+`WHERE b.area_id = ? AND b.round = ? AND b.company = ? AND b.status = 'submitted'`, a.ID, t.Round, b.Company))
		} else {
			cur, err = scanBid(tx.QueryRowContext(ctx, `SELECT `+bidColumns+bidFrom+`WHERE b.id = ? AND b.area_id = ?`, b.ID, a.ID))
			if pledge.ErrorCode(err) == pledge.ENOTFOUND {
				return pledge.Errorf(pledge.ENOTFOUND, "no bid %d", b.ID)
			}
			if err == nil {
				err = tx.QueryRowContext(ctx, `SELECT attachment_id FROM bids WHERE id = ?`, b.ID).Scan(&attID)
			}
		}
		if err != nil && pledge.ErrorCode(err) != pledge.ENOTFOUND {
			return formatError(err)
		}
		if err := check(a, t, cur); err != nil {
			return err
		}
		if att != nil && b.Attachment != nil {
			res, err := tx.ExecContext(ctx, `INSERT INTO bid_attachments (name, size, sha256, data) VALUES (?, ?, ?, ?)`, b.Attachment.Name, len(att), b.Attachment.SHA256, att)
			if err != nil {
				return formatError(err)
			}
			id, _ := res.LastInsertId()
			attID = sql.NullInt64{Int64: id, Valid: true}
		} else if b.Attachment == nil {
			attID = sql.NullInt64{}
		}
		at := formatTime(b.UpdatedAt)
		if b.ID == 0 {
			b.Round, b.Revision, b.CreatedAt = t.Round, 1, b.UpdatedAt
			res, err := tx.ExecContext(ctx, `INSERT INTO bids (area_id, round, company, user_id, status, price_per_connection, household_contribution,
				timeline_months, open_access, notes, attachment_id, revision, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
				a.ID, b.Round, b.Company, b.UserID, string(b.Status), b.PricePerConnection, b.HouseholdContribution, b.TimelineMonths, b.OpenAccess, b.Notes, attID, at, at)
			if err != nil {
				return formatError(err)
			}
			b.ID, _ = res.LastInsertId()
		} else {
			b.Revision = cur.Revision + 1
			b.CreatedAt = cur.CreatedAt
			_, err := tx.ExecContext(ctx, `UPDATE bids SET user_id = ?, status = ?, price_per_connection = ?, household_contribution = ?, timeline_months = ?,
				open_access = ?, notes = ?, attachment_id = ?, revision = ?, updated_at = ? WHERE id = ?`,
				b.UserID, string(b.Status), b.PricePerConnection, b.HouseholdContribution, b.TimelineMonths, b.OpenAccess, b.Notes, attID, b.Revision, at, b.ID)
			if err != nil {
				return formatError(err)
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO bid_revisions (bid_id, revision, user_id, status, price_per_connection, household_contribution,
			timeline_months, open_access, notes, attachment_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			b.ID, b.Revision, b.UserID, string(b.Status), b.PricePerConnection, b.HouseholdContribution, b.TimelineMonths, b.OpenAccess, b.Notes, attID, at)
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
	b, err := scanBid(s.db.QueryRowContext(ctx, `SELECT `+bidColumns+bidFrom+`WHERE b.id = ?`, id))
	return b, notFound(err, pledge.Errorf(pledge.ENOTFOUND, "no bid %d", id))
}

// Bids lists a round's bids, of one company unless it is "".
func (s *Store) Bids(ctx context.Context, code string, round int, company string) ([]pledge.Bid, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+bidColumns+bidFrom+`WHERE ar.code = ? AND b.round = ? AND (? = '' OR b.company = ?) ORDER BY b.id`, code, round, company, company)
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

// BidRevisions lists bid id's revisions, oldest first.
func (s *Store) BidRevisions(ctx context.Context, id int64) ([]pledge.Bid, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT b.id, ar.code, b.round, b.company, r.user_id, r.status, r.price_per_connection, r.household_contribution,
		r.timeline_months, r.open_access, r.notes, r.revision, b.created_at, r.at, ba.name, ba.size, ba.sha256
		FROM bid_revisions r JOIN bids b ON b.id = r.bid_id JOIN areas ar ON ar.id = b.area_id LEFT JOIN bid_attachments ba ON ba.id = r.attachment_id
		WHERE r.bid_id = ? ORDER BY r.revision`, id)
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
	if err := rows.Err(); err != nil {
		return nil, formatError(err)
	}
	if len(out) == 0 {
		return nil, pledge.Errorf(pledge.ENOTFOUND, "no bid %d", id)
	}
	return out, nil
}

// BidAttachment returns the bytes of bid id's attachment.
func (s *Store) BidAttachment(ctx context.Context, id int64) ([]byte, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT ba.data FROM bids b JOIN bid_attachments ba ON ba.id = b.attachment_id WHERE b.id = ?`, id).Scan(&data)
	return data, notFound(formatError(err), pledge.Errorf(pledge.ENOTFOUND, "bid %d has no attachment", id))
}
