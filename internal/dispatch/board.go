package dispatch

import (
	"context"
	"encoding/json"
	"fmt"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// BoardSubjects carries board updates between nodes, best-effort (the
// broker's core NATS subjects, never stored).
type BoardSubjects interface {
	BoardSubject() string
	PublishBestEffort(subject string, data []byte) error
	SubscribeBestEffort(subject string, handle func(data []byte)) (stop func(), err error)
}

// BoardPublisher hears every committed order change, for the dispatchers'
// boards. The Service calls it after the commit; nil hears nothing.
type BoardPublisher interface {
	OrderChanged(o orders.Order)
}

// Board shows every order change of a tenant to that tenant's dispatchers
// as board:order. It is best-effort by design: the node that committed a
// change publishes it to every node, and each node emits it to the board
// rooms of its own sockets; a node that dies between the commit and the
// publish loses that one update, and board:subscribe lists the truth
// again (the contract's "subscribe again to resync"). Durable delivery
// of every change to every dispatcher would cost one record per
// dispatcher per change for a view that is refreshed anyway.
type Board struct {
	subjects BoardSubjects
	emitter  Emitter
	log      *zap.Logger
}

// NewBoard returns the board over the broker's best-effort subjects,
// shown through emitter; start it with Run.
func NewBoard(subjects BoardSubjects, emitter Emitter, log *zap.Logger) *Board {
	return &Board{subjects: subjects, emitter: emitter, log: log}
}

// OrderChanged implements BoardPublisher: it sends o to every node. A
// failure is logged, not returned: the change is committed already.
func (b *Board) OrderChanged(o orders.Order) {
	data, err := json.Marshal(BoardOrder{Order: o})
	if err == nil {
		err = b.subjects.PublishBestEffort(b.subjects.BoardSubject(), data)
	}
	if err != nil {
		b.log.Warn("board update not published", zap.String("tenant_id", o.Tenant), zap.String("order_id", o.ID), zap.Error(err))
	}
}

// Run shows every node's board updates to this node's dispatchers until
// ctx ends.
func (b *Board) Run(ctx context.Context) error {
	stop, err := b.subjects.SubscribeBestEffort(b.subjects.BoardSubject(), b.onUpdate)
	if err != nil {
		return fmt.Errorf("subscribe to board updates: %w", err)
	}
	defer stop()
	<-ctx.Done()
	return nil
}

func (b *Board) onUpdate(data []byte) {
	var m BoardOrder
	if err := json.Unmarshal(data, &m); err != nil || !orders.ValidName(m.Order.Tenant) {
		b.log.Warn("undecodable board update", zap.Error(err))
		return
	}
	rooms := []string{BoardRoom(m.Order.Tenant, "")}
	if m.Order.Zone != "" {
		rooms = append(rooms, BoardRoom(m.Order.Tenant, m.Order.Zone))
	}
	if err := b.emitter.Emit(NSDispatchers, rooms, string(EventBoardOrder), data); err != nil {
		b.log.Debug("emit board update", zap.Error(err))
	}
}

// DriverChanged shows a driver's duty or position change to this node's
// dispatchers of its tenant. It is the Fleet's change hook: every node's
// fleet hears every change, so nothing travels between nodes here.
func (b *Board) DriverChanged(s DriverState) {
	row := boardDriverOf(s, 0)
	// The contract's board:driver: no load, which only board:subscribe
	// counts (a position update does not know it).
	payload, err := json.Marshal(BoardDriverUpdate{DriverID: row.DriverID, OnDuty: row.OnDuty, Lat: row.Lat, Lng: row.Lng, At: row.At})
	if err == nil {
		err = b.emitter.Emit(NSDispatchers, []string{BoardDriversRoom(s.Tenant)}, string(EventBoardDriver), payload)
	}
	if err != nil {
		b.log.Debug("emit board driver", zap.Error(err))
	}
}

// boardDriverOf is a driver's board row; the position only when known.
func boardDriverOf(s DriverState, active int) BoardDriver {
	d := BoardDriver{DriverID: s.DriverID, OnDuty: s.OnDuty, ActiveOrders: active}
	if s.Known {
		lat, lng, at := s.Point.Lat, s.Point.Lng, s.At
		d.Lat, d.Lng, d.At = &lat, &lng, &at
	}
	return d
}
