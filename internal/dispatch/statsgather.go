package dispatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"
)

// StatsSubjects carries board:stats questions and answers between nodes
// on core NATS: best effort, never stored (the broker's).
type StatsSubjects interface {
	Subject(tokens ...string) string
	PublishBestEffort(subject string, data []byte) error
	SubscribeBestEffort(subject string, handle func(data []byte)) (stop func(), err error)
}

// NodeStats is one node's part of a tenant's board:stats: the delivery
// queues and sockets live on the node holding each socket.
type NodeStats struct {
	Node     string            `json:"node"`
	Sockets  int               `json:"sockets"`
	Delivery BoardDeliveryView `json:"delivery"`
}

type statsQuestion struct {
	ID      string `json:"id"`
	Tenant  string `json:"tenant"`
	ReplyTo string `json:"replyTo"`
}

type statsAnswer struct {
	ID    string    `json:"id"`
	Stats NodeStats `json:"stats"`
}

// defaultStatsWait is how long a question collects answers: every node
// on one NATS cluster answers within a few milliseconds.
const defaultStatsWait = 200 * time.Millisecond

// StatsGather asks every node for its part of a tenant's board:stats
// over the broker and merges the answers. The broker has no
// request/reply: a question names this node's reply subject, and
// answers are collected for a fixed wait, since no node knows how many
// others there are.
type StatsGather struct {
	subjects StatsSubjects
	node     string // shown in nodes
	inbox    string // this node's reply subject
	wait     time.Duration
	log      *zap.Logger
	local    func(tenant string) NodeStats // set by Handlers.GatherStats

	mu      sync.Mutex
	pending map[string]chan NodeStats
	recent  map[string]gathered // by tenant
}

// gathered is a tenant's last answers, reused for statsFresh: however
// many boards of the tenant are open, and however fast a dispatcher
// asks, every node counts the tenant's queues at most once per
// statsFresh for this node.
type gathered struct {
	at    time.Time
	parts []NodeStats
}

// statsFresh is how long gathered answers are served again.
const statsFresh = time.Second

// NewStatsGather returns the gatherer of a node named node; start it
// with Run once Handlers.GatherStats has given it the node's view.
func NewStatsGather(subjects StatsSubjects, node string, log *zap.Logger) *StatsGather {
	return &StatsGather{subjects: subjects, node: node, inbox: subjects.Subject("boardstats", "reply", randomHex(8)),
		wait: defaultStatsWait, log: log, pending: make(map[string]chan NodeStats), recent: make(map[string]gathered)}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// Run answers other nodes' questions and hears their answers to this
// node's until ctx ends.
func (g *StatsGather) Run(ctx context.Context) error {
	stopQ, err := g.subjects.SubscribeBestEffort(g.subjects.Subject("boardstats", "ask"), g.answer)
	if err != nil {
		return fmt.Errorf("subscribe to board stats questions: %w", err)
	}
	defer stopQ()
	stopA, err := g.subjects.SubscribeBestEffort(g.inbox, g.hear)
	if err != nil {
		return fmt.Errorf("subscribe to board stats answers: %w", err)
	}
	defer stopA()
	<-ctx.Done()
	return nil
}

func (g *StatsGather) answer(data []byte) {
	var q statsQuestion
	if err := json.Unmarshal(data, &q); err != nil || q.ID == "" || q.ReplyTo == "" {
		g.log.Debug("undecodable board stats question", zap.Error(err))
		return
	}
	body, err := json.Marshal(statsAnswer{ID: q.ID, Stats: g.local(q.Tenant)})
	if err == nil {
		err = g.subjects.PublishBestEffort(q.ReplyTo, body)
	}
	if err != nil {
		g.log.Debug("board stats answer not sent", zap.Error(err))
	}
}

func (g *StatsGather) hear(data []byte) {
	var a statsAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		return
	}
	g.mu.Lock()
	ch := g.pending[a.ID]
	g.mu.Unlock()
	if ch != nil {
		select {
		case ch <- a.Stats:
		default: // more nodes than room: dropped, like any best-effort answer
		}
	}
}

// Gather returns every answering node's part of tenant's stats; with the
// broker unreachable, or no answer in time, this node's alone.
func (g *StatsGather) Gather(tenant string) []NodeStats {
	now := time.Now()
	g.mu.Lock()
	if r, ok := g.recent[tenant]; ok && now.Sub(r.at) < statsFresh {
		g.mu.Unlock()
		return r.parts
	}
	for t, r := range g.recent { // keep the map to tenants asking lately
		if now.Sub(r.at) >= statsFresh {
			delete(g.recent, t)
		}
	}
	g.mu.Unlock()
	parts := g.ask(tenant)
	g.mu.Lock()
	g.recent[tenant] = gathered{at: now, parts: parts}
	g.mu.Unlock()
	return parts
}

// ask puts the question to every node and collects answers for g.wait.
func (g *StatsGather) ask(tenant string) []NodeStats {
	id := randomHex(8)
	ch := make(chan NodeStats, 64)
	g.mu.Lock()
	g.pending[id] = ch
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.pending, id)
		g.mu.Unlock()
	}()
	q, _ := json.Marshal(statsQuestion{ID: id, Tenant: tenant, ReplyTo: g.inbox})
	var got []NodeStats
	if err := g.subjects.PublishBestEffort(g.subjects.Subject("boardstats", "ask"), q); err == nil {
		timer := time.NewTimer(g.wait)
		defer timer.Stop()
	collect:
		for {
			select {
			case s := <-ch:
				got = append(got, s)
			case <-timer.C:
				break collect
			}
		}
	}
	if len(got) == 0 {
		return []NodeStats{g.local(tenant)}
	}
	return got
}

// mergeNodeStats adds the nodes' parts into one BoardStats.
func mergeNodeStats(parts []NodeStats, st *BoardStats) {
	st.Nodes = make([]string, 0, len(parts))
	st.Delivery.Stalled = []BoardStalledEntry{}
	for _, p := range parts {
		st.Nodes = append(st.Nodes, p.Node)
		st.Sockets += p.Sockets
		d := p.Delivery
		st.Delivery.Recipients += d.Recipients
		st.Delivery.Queued += d.Queued
		st.Delivery.InFlight += d.InFlight
		st.Delivery.Behind += d.Behind
		st.Delivery.Stalled = append(st.Delivery.Stalled, d.Stalled...)
	}
	sort.Strings(st.Nodes)
	sort.SliceStable(st.Delivery.Stalled, func(i, j int) bool { return st.Delivery.Stalled[i].Since.Before(st.Delivery.Stalled[j].Since) })
}
