// Package cache is cache-aside with stampede protection, freshness control and
// pluggable eviction stores: the rung of the ladder where a service stops
// asking its database the same question a thousand times a second.
//
// Stage of growth: "cache and CDN". Reads have outgrown what the primary and its
// replicas can answer; a process-local cache (this package) and a shared one
// (cache/rediscache) take the repeated reads.
//
// An [Aside] checks its [Store] first; on a miss it runs the caller's loader
// once per key however many callers miss together, stores the result and
// returns it. Entries carry their own TTL (with jitter so keys loaded together
// do not expire together), may be refreshed early (XFetch) or in the
// background (refresh-ahead), and may be served stale while they revalidate
// or while the loader fails (RFC 5861). A version guard keeps a load that
// started before a Delete or Set from writing the old value back.
//
// Stores: [LRU] (the default for a reason), [TwoQueue] and [ARC] (scan
// resistant), [LFU] and [FIFO] (special access patterns), and [Sharded] to
// spread any of them over several locks. All are bounded by entry count and
// optionally by a total cost.
package cache
