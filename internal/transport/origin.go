package transport

// OriginRefused returns how many requests were refused for their Origin.
func (s *Server) OriginRefused() int64 { return s.eio.OriginRefused() }
