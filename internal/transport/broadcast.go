package transport

import (
	"slices"

	"github.com/dispatchd/dispatchd/internal/transport/parser"
)

// Broadcast is an immutable selection of recipients in one namespace.
type Broadcast struct {
	ns     *Namespace
	rooms  []string
	except []string
}

// To adds rooms to the selection (union).
func (b *Broadcast) To(rooms ...string) *Broadcast {
	return &Broadcast{ns: b.ns, rooms: append(slices.Clip(b.rooms), rooms...), except: b.except}
}

// Except removes members of rooms from the selection.
func (b *Broadcast) Except(rooms ...string) *Broadcast {
	return &Broadcast{ns: b.ns, rooms: b.rooms, except: append(slices.Clip(b.except), rooms...)}
}

// Emit encodes the event once and queues the same bytes to every member.
func (b *Broadcast) Emit(event string, args ...any) error {
	if parser.IsReserved(event) {
		return ErrReservedEvent
	}
	frames, err := encode(parser.Packet{Type: parser.Event, Namespace: b.ns.name}, event, args, true)
	if err != nil {
		return err
	}
	b.ns.Adapter().Broadcast(&Packet{frames: frames}, BroadcastOptions{Rooms: b.rooms, Except: b.except})
	return nil
}
