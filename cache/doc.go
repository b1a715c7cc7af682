// Package cache is cache-aside with stampede protection, freshness control and
// pluggable eviction stores: the rung of the ladder where a service stops
// asking its database the same question a thousand times a second.
//
// Stage of growth: "cache and CDN". Reads have outgrown what the primary and its
// replicas can answer; a process-local cache (this package) and a shared one
// (cache/rediscache) take the repeated reads.
//
// An [Aside] checks its [Store] first; on a miss it runs the caller's loader
// once per key however many callers miss together (the load is detached from
// any one caller's cancellation and bounded by its own timeout), stores the
// result and returns it. A version guard keeps a load that started before a
// Delete or Set from writing the old value back.
//
// # Freshness, per data type
//
// Too long a TTL serves stale data; too short and the cache barely helps. Use
// one Aside per data type, each with its own [Options]: a TTL (and a per-entry
// TTL from the loader through [Meta]), Jitter so keys loaded together do not
// expire together, and for hot keys one of
//
//   - StaleWhileRevalidate: serve the expired value while one reload runs
//     (RFC 5861); with it, a hot key's expiry makes nobody wait;
//   - RefreshAfter: reload in the background once an entry is this old
//     (Caffeine's refreshAfterWrite);
//   - EarlyRefreshBeta: XFetch, reload early with a probability that grows
//     as expiry nears, weighted by how long the load takes;
//   - StaleIfError: keep serving the expired value while the source fails.
//
// NotFound with NegativeTTL caches "no such row" briefly, so a missing key
// cannot be used to hammer the database.
//
// # Stores
//
// [TinyLFU] (W-TinyLFU, Caffeine's and otter's policy), the default (a nil
// store given to [New]), admits a new entry
// into its main space only if a frequency sketch says it is used more often
// than the entry it would displace, so loops larger than the cache,
// one-pass scans and several programs sharing a cache do not flush what is
// used again; a small LRU window, sized by hill climbing, keeps recency.
// [LRU] suits plain temporal locality. The hits of both take no lock and
// write nothing shared (recency is applied at eviction, CLOCK-style), so
// readers on every core scale. [TwoQueue] and [ARC] resist scans too; [LFU]
// keeps stable favourites; [FIFO] never reorders on reads. Those four take
// a lock on every read; [Sharded] spreads any store over several locks for
// parallel readers and writers. All are bounded by entry count and
// optionally by total cost ([StoreOptions.MaxCost], with the cost given per
// entry through [Meta]). bench/cmd/hitratio replays your own trace against
// every store to choose; bench/RESULTS.md has the figures on public and
// synthetic traces.
//
// # Telemetry
//
// Metrics (scope github.com/ladder-go/ladder/cache): ladder.cache.hits,
// .misses, .stale_served, .early_refreshes, .evictions, .rejected, .loads,
// .load.errors (by error.type) and .load.duration. Hits are counted with
// striped atomics read by an observable callback, so the hit path costs the
// same with or without an SDK.
package cache
