package transport

import (
	"slices"
	"sync"

	"github.com/dispatchd/dispatchd/internal/transport/engineio"
)

// Packet is an encoded packet ready for many sockets: the same frames are
// queued to every recipient.
type Packet struct {
	frames []*engineio.Frame
}

// BroadcastOptions selects recipients: members of any of Rooms (every
// socket of the namespace when empty), minus members of any of Except.
// Every socket is implicitly in a room named by its own id.
type BroadcastOptions struct {
	Rooms  []string
	Except []string
}

// Adapter keeps room membership for one namespace, in this process, and
// delivers broadcasts to its members. It is not pluggable: nothing crosses
// nodes through rooms (durable events go through internal/delivery's log,
// driver positions through the broker's best-effort subjects, and each
// node emits to its own sockets).
type Adapter struct {
	// lookup resolves a socket's own-id room, which is not stored.
	lookup func(id string) *Socket

	mu    sync.RWMutex
	rooms map[string]map[*Socket]struct{}
	// sids holds every socket of the namespace with its named rooms (a
	// short slice: sockets join few rooms).
	sids map[*Socket][]string
}

// newAdapter returns an empty adapter; lookup finds a socket by id.
func newAdapter(lookup func(id string) *Socket) *Adapter {
	return &Adapter{
		lookup: lookup,
		rooms:  make(map[string]map[*Socket]struct{}),
		sids:   make(map[*Socket][]string),
	}
}

// AddAll registers s (idempotent) and joins it to rooms.
func (a *Adapter) AddAll(s *Socket, rooms []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	mine, ok := a.sids[s]
	if !ok {
		mine = nil
	}
	for _, r := range rooms {
		if r == s.id || slices.Contains(mine, r) {
			continue
		}
		mine = append(mine, r)
		m := a.rooms[r]
		if m == nil {
			m = make(map[*Socket]struct{})
			a.rooms[r] = m
		}
		m[s] = struct{}{}
	}
	a.sids[s] = mine
}

// Del removes s from room.
func (a *Adapter) Del(s *Socket, room string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	mine, ok := a.sids[s]
	if !ok {
		return
	}
	if i := slices.Index(mine, room); i >= 0 {
		a.sids[s] = slices.Delete(mine, i, i+1)
		a.leaveLocked(s, room)
	}
}

// DelAll forgets s entirely.
func (a *Adapter) DelAll(s *Socket) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.sids[s] {
		a.leaveLocked(s, r)
	}
	delete(a.sids, s)
}

func (a *Adapter) leaveLocked(s *Socket, room string) {
	if m := a.rooms[room]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(a.rooms, room)
		}
	}
}

// SocketRooms returns s's rooms, its own-id room first.
func (a *Adapter) SocketRooms(s *Socket) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	mine, ok := a.sids[s]
	if !ok {
		return nil
	}
	return append([]string{s.id}, mine...)
}

// Broadcast queues p to every selected socket. Sending never blocks (a
// full queue evicts that socket), so holding the read lock is safe.
func (a *Adapter) Broadcast(p *Packet, opts BroadcastOptions) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	f := fanout{frames: p.frames}
	if len(opts.Except) > 0 {
		// Made here, not in the helper: a map that does not escape
		// Broadcast stays off the heap.
		f.except = make(map[*Socket]struct{})
		a.addMembersLocked(f.except, opts.Except)
	}
	switch len(opts.Rooms) {
	case 0:
		for s := range a.sids {
			f.send(s)
		}
	case 1:
		for s := range a.rooms[opts.Rooms[0]] {
			f.send(s)
		}
		if s := a.lookup(opts.Rooms[0]); s != nil {
			f.send(s)
		}
	default:
		// A socket in several of the rooms gets the packet once.
		f.seen = make(map[*Socket]struct{})
		for _, r := range opts.Rooms {
			a.sendRoomOnceLocked(&f, r)
		}
	}
}

// addMembersLocked adds to set the sockets in any of rooms, own-id rooms
// included.
func (a *Adapter) addMembersLocked(set map[*Socket]struct{}, rooms []string) {
	for _, r := range rooms {
		for s := range a.rooms[r] {
			set[s] = struct{}{}
		}
		if s := a.lookup(r); s != nil {
			set[s] = struct{}{}
		}
	}
}

// sendRoomOnceLocked sends to the members of room (an own-id room
// included) that f has not sent to yet.
func (a *Adapter) sendRoomOnceLocked(f *fanout, room string) {
	for s := range a.rooms[room] {
		f.sendOnce(s)
	}
	if s := a.lookup(room); s != nil {
		f.sendOnce(s)
	}
}

// fanout is one broadcast's frames and the sockets it skips.
type fanout struct {
	frames []*engineio.Frame
	except map[*Socket]struct{}
	seen   map[*Socket]struct{} // already sent to; nil when no socket can repeat
}

func (f *fanout) send(s *Socket) {
	if _, skip := f.except[s]; !skip {
		s.sendFrames(f.frames)
	}
}

// sendOnce sends to s unless it already got the packet.
func (f *fanout) sendOnce(s *Socket) {
	if _, dup := f.seen[s]; !dup {
		f.seen[s] = struct{}{}
		f.send(s)
	}
}
