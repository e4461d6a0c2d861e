package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// Seed stores a generated municipality through the service's own rules, as
// `serve --demo` does: areas, addresses, roads (where the store keeps them),
// a deadline per area from deadline (nil: none) and every pledge.
func Seed(ctx context.Context, svc *pledge.Service, m Municipality, deadline func(i int) time.Time) error {
	if _, err := svc.ImportAreas(ctx, m.Areas, pledge.AreaImport{}); err != nil {
		return err
	}
	recs := pledge.Records(slices.Clone(m.Addresses))
	if _, err := svc.ImportAddresses(ctx, &recs, pledge.AddressImportOptions{File: "demo"}); err != nil {
		return err
	}
	// Roads make route estimates follow them.
	if _, err := svc.ImportRoads(ctx, m.Roads); err != nil {
		return err
	}
	if deadline != nil {
		// Seeding is the operator's own doing, as on the CLI.
		sys := pledge.WithUser(ctx, pledge.SystemUser())
		for i, a := range m.Areas {
			d := deadline(i)
			if _, err := svc.UpdateAreaSettings(sys, a.Code, pledge.AreaSettings{Deadline: &d}); err != nil {
				return err
			}
		}
	}
	for _, p := range m.Pledges {
		// Generated pledges count as entered ones: with a mail server
		// configured, no confirmation goes to the made-up addresses.
		req := pledge.PledgeRequest{AddressID: p.AddressID, Unit: p.Unit, Name: p.Name, Email: p.Email, Phone: p.Phone, Consent: true, Confirmed: true}
		if _, _, err := svc.CreatePledge(ctx, req, ""); err != nil {
			return fmt.Errorf("pledge for %s: %w", p.AddressID, err)
		}
	}
	return nil
}
