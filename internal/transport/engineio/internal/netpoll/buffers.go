package netpoll

// Buffers keeps a fixed number of spare read buffers. Not a sync.Pool: a
// reader holds its buffer while the handlers of what it read run
// (database calls included), so a burst of connects has thousands out at
// once, and a pool keeps them all until two collections, which an idle
// server does not run for minutes (36 MB held after 9,000 connects).
type Buffers struct {
	size  int
	spare chan *[]byte
}

// NewBuffers returns a pool of buffers of size bytes keeping at most kept
// spares.
func NewBuffers(size, kept int) *Buffers {
	return &Buffers{size: size, spare: make(chan *[]byte, kept)}
}

// Get returns a spare buffer, or a new one.
func (b *Buffers) Get() *[]byte {
	select {
	case p := <-b.spare:
		return p
	default:
		p := make([]byte, b.size)
		return &p
	}
}

// Put keeps p as a spare unless enough are kept already.
func (b *Buffers) Put(p *[]byte) {
	select {
	case b.spare <- p:
	default: // enough spares: this one is garbage
	}
}

// Spare is how many spare buffers are kept now.
func (b *Buffers) Spare() int { return len(b.spare) }
