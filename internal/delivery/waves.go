package delivery

import (
	"context"
	"encoding/json"
	"time"

	"go.uber.org/zap"
)

// relayJob is one change being relayed.
type relayJob struct {
	entry OutboxEntry
	at    time.Time
	items []relayItem
	ok    bool // every record so far stored
}

// relayItem is one record of a change, encoded for the log, and the wave
// it is published in.
type relayItem struct {
	rec  Record
	msg  LogMessage
	wave int
}

// render turns entries into jobs, one per order (deferred: some entries
// wait for a later round).
func (c *Relay) render(entries []OutboxEntry) (jobs []*relayJob, deferred bool) {
	taken := make(map[[2]string]bool, len(entries))
	for _, e := range entries {
		key := [2]string{e.Tenant, e.OrderID}
		if taken[key] {
			deferred = true
			continue
		}
		taken[key] = true
		jobs = append(jobs, c.renderJob(e))
	}
	return jobs, deferred
}

// renderJob renders one entry. A change that cannot be rendered never
// will be: it becomes a job with no records, marked sent, so that it does
// not block the changes behind it.
func (c *Relay) renderJob(e OutboxEntry) *relayJob {
	j := &relayJob{entry: e, ok: true}
	recs, at, err := c.fanout(e.Payload)
	if err != nil {
		c.zl.Error("render change; skipped", zap.Int64("seq", e.Seq), zap.Error(err))
		return j
	}
	j.at = at
	perFeed := make(map[[2]string]int, len(recs))
	for _, r := range recs {
		data, err := json.Marshal(&r)
		if err != nil {
			c.zl.Error("encode record; change skipped", zap.Int64("seq", e.Seq), zap.Error(err))
			j.items = nil
			return j
		}
		feed := [2]string{r.Feed, r.Key}
		j.items = append(j.items, relayItem{rec: r, wave: perFeed[feed],
			msg: LogMessage{Subject: c.log.EventSubject(r.subjectTokens()...), ID: r.msgID(), Data: data}})
		perFeed[feed]++
	}
	return j
}

// waveItem is one record of a wave and the job it belongs to.
type waveItem struct {
	j    *relayJob
	item *relayItem
}

// wave collects the records of wave n of the jobs still going.
func wave(jobs []*relayJob, n int) []waveItem {
	var out []waveItem
	for _, j := range jobs {
		if !j.ok {
			continue
		}
		for i := range j.items {
			if j.items[i].wave == n {
				out = append(out, waveItem{j, &j.items[i]})
			}
		}
	}
	return out
}

// publishWaves stores the jobs' records wave by wave; failed reports that
// some record was not stored.
func (c *Relay) publishWaves(ctx context.Context, jobs []*relayJob) (failed bool) {
	for n := 0; ; n++ {
		items := wave(jobs, n)
		if len(items) == 0 {
			// A change's waves are numbered without gaps: none in this
			// one means none later.
			return failed
		}
		if c.publishWave(ctx, items, failed) {
			failed = true
		}
	}
}

// publishWave stores one wave; a job with a record not stored stops
// there. warned tells that a failure was logged already this round.
func (c *Relay) publishWave(ctx context.Context, items []waveItem, warned bool) (failed bool) {
	msgs := make([]LogMessage, len(items))
	for i, it := range items {
		msgs[i] = it.item.msg
	}
	start := time.Now()
	results := c.log.PublishBatch(ctx, msgs)
	took := time.Since(start)
	for i, res := range results {
		j := items[i].j
		c.obs.Published(took, res.Err)
		switch {
		case res.Err != nil:
			if !warned && !failed && ctx.Err() == nil {
				c.zl.Warn("publish change; will retry", zap.String("tenant_id", j.entry.Tenant),
					zap.String("order_id", j.entry.OrderID), zap.Error(res.Err))
			}
			j.ok, failed = false, true
		case !res.Duplicate:
			// Once per event and feed in the cluster, by the node that
			// stored it: a dozen per order, so debug, not info.
			if ce := c.zl.Check(zap.DebugLevel, "event routed"); ce != nil {
				r := &items[i].item.rec
				ce.Write(zap.String("event", r.Event),
					zap.String("tenant_id", r.Tenant),
					zap.String("order_id", r.OrderID),
					zap.String("feed", r.Feed),
					zap.Uint64("pos", res.Pos),
					zap.Time("time", j.at))
			}
		}
	}
	return failed
}
