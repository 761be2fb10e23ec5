package main

// maxMissing bounds the seqs one recipient may be missing at once; beyond
// it they are counted as gaps straight away.
const maxMissing = 4096

// seqChecker follows one recipient's durable seq (1, 2, 3, … per user and
// namespace). Owned by that recipient's reader goroutine.
//
// A seq past the next expected one leaves the skipped ones missing; a
// missing seq that shows up later is a reorder, any other seq not above
// the last is a repeat. Whatever is still missing at the end is a gap.
type seqChecker struct {
	last     int64
	missing  map[int64]struct{}
	overflow int64
	reorders int64
	dups     int64
}

// see records one seq.
func (s *seqChecker) see(seq int64) {
	switch {
	case seq == s.last+1:
		s.last = seq
	case seq > s.last+1:
		for m := s.last + 1; m < seq; m++ {
			if len(s.missing) >= maxMissing {
				s.overflow += seq - m
				break
			}
			if s.missing == nil {
				s.missing = map[int64]struct{}{}
			}
			s.missing[m] = struct{}{}
		}
		s.last = seq
	default:
		if _, ok := s.missing[seq]; ok {
			delete(s.missing, seq)
			s.reorders++
			return
		}
		s.dups++
	}
}

// gaps counts the seqs skipped and never seen since.
func (s *seqChecker) gaps() int64 { return int64(len(s.missing)) + s.overflow }
