package pledge

// StoreOf is the store behind s, for the package's own tests.
func StoreOf(s *Service) Store { return s.store }
