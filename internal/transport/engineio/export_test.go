package engineio

// pollHeld reports whether session sid holds a long-polling GET.
func (s *Server) pollHeld(sid string) bool {
	s.mu.RLock()
	c := s.sessions[sid]
	s.mu.RUnlock()
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pollWake != nil
}
