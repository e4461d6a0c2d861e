// Package pledge is the domain of kommunity: areas, addresses, units and
// pledges, the rules that govern them (Service), the Store interface that
// persistence adapters implement, and the Error type with its codes.
//
// It imports only the standard library, orb, geo, walk (the pure
// walk-list algorithms) and two pure functions of golang.org/x (idna for
// e-mail domains, argon2 for passwords); never gin, pgx or database/sql.
package pledge
