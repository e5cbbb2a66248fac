package dpop

import "time"

// SetClock replaces the store's clock, for the tests of expiry.
func (s *MemoryStore) SetClock(now func() time.Time) { s.now = now }
