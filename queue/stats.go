package queue

// WorkerStats are a Worker's local counters since NewWorker: what this
// instance did, not the queue's depth (that is Client.Stats).
type WorkerStats struct {
	QueueStats                       // all queues together
	Queues     map[string]QueueStats // per queue
}

// QueueStats count the attempts of one queue (or all) that this Worker
// ended, by outcome.
type QueueStats struct {
	Processed int64 // attempts ended: the sum of the outcomes below
	Succeeded int64 // Done
	Retried   int64 // failed, to run again after a backoff
	Dead      int64 // dead-lettered: last attempt failed, cancelled, unknown kind, malformed args
	Snoozed   int64 // Snooze
	Released  int64 // given back unstarted or unfinished at shutdown
	LeaseLost int64 // ended after the lease was lost: no outcome applied
	// Failed is Retried + Dead: attempts that ended in an error (or a
	// cancellation, an unknown kind, malformed args).
	Failed int64
	// Running is the number of jobs fetched and not yet finished (queued
	// for a handler or running).
	Running int64
	// Abandoned counts handler goroutines given up on: past their Timeout
	// plus a grace, or past ShutdownTimeout at shutdown.
	Abandoned int64
}

func (s QueueStats) byOutcome() [numOutcomes]int64 {
	var o [numOutcomes]int64
	o[0], o[Done], o[Retry], o[Snooze], o[Dead], o[Release] = s.LeaseLost, s.Succeeded, s.Retried, s.Snoozed, s.Dead, s.Released
	return o
}

func (s *QueueStats) add(o QueueStats) {
	s.Processed += o.Processed
	s.Succeeded += o.Succeeded
	s.Retried += o.Retried
	s.Dead += o.Dead
	s.Snoozed += o.Snoozed
	s.Released += o.Released
	s.LeaseLost += o.LeaseLost
	s.Failed += o.Failed
	s.Running += o.Running
	s.Abandoned += o.Abandoned
}

// Stats reads the counters; safe to call at any time, from any goroutine.
func (w *Worker) Stats() WorkerStats {
	out := WorkerStats{Queues: make(map[string]QueueStats, len(w.queues))}
	for _, q := range w.queues {
		var c [numOutcomes]int64
		for _, s := range *q.slots.Load() {
			for i := range c {
				c[i] += s.counts[i].Load()
			}
		}
		qs := QueueStats{
			LeaseLost: c[0], Succeeded: c[Done], Retried: c[Retry], Snoozed: c[Snooze], Dead: c[Dead], Released: c[Release],
			Running:   max(q.inflight.Load(), 0),
			Abandoned: q.abandoned.Load(),
		}
		qs.Failed = c[Retry] + c[Dead]
		for _, n := range c {
			qs.Processed += n
		}
		out.Queues[q.name] = qs
		out.add(qs)
	}
	return out
}
