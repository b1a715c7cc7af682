// Package shard routes keys to shards: it belongs to the last stage of
// growth, "multi-DC and shards". When the primary database can't be made
// any bigger, you split the data across many databases; each shard owns a
// slice, and the application routes every query to the shard that owns its
// key.
//
// A key (a user ID, a tenant, an order number) is first hashed to 64 bits
// with a hash that never changes across processes, machines or releases
// ([KeyString], [KeyBytes], [KeyUint64]; XXH64, pinned by golden values).
// A [Strategy] places the hash on a shard:
//
//   - [Modulo]: the seed's "user_id % 4". Balanced, but adding a shard moves
//     almost every key: the naive baseline.
//   - [Jump]: jump consistent hashing. No memory, perfect balance, and adding
//     shard n+1 moves exactly the 1/(n+1) of keys that must. Numbered shards,
//     added or removed at the end only.
//   - [Rendezvous]: highest random weight, weighted. Any named shard may come
//     or go and only its share moves; O(n) per lookup.
//   - [Maglev]: a prime-sized lookup table, O(1) per lookup for any shard
//     count, named and weighted shards, a little extra movement on change.
//   - [Consistent]: consistent hashing with bounded loads
//     (github.com/buraksezer/consistent v0.10.0, configuration checked up
//     front so it never panics).
//   - [Ranges]: Vitess-style key-hash ranges ([ParseRanges]("-80,80-")),
//     resharded by splitting and merging ranges.
//   - [Directory]: explicit overrides for chosen keys over any strategy, to
//     isolate a hot tenant on its own shard.
//
// A [Map] is one immutable, versioned topology: shard names plus strategy.
// A [Router] holds the current map and swaps it atomically
// ([Router.Swap] is a compare-and-swap that demands a higher version), so
// routing never sees half a change, and a lookup is one atomic load plus
// the strategy, without allocation.
//
// Resharding is a major migration: plan it before you need it. [Plan]
// compares two maps before anything moves and says which shards send keys
// where and what fraction of the data moves: exactly, range by range, for
// range maps, and by evaluating both maps on a key set (the user's keys, or
// a deterministic sample of the hash space) for hash strategies.
//
// [Migration] then moves a table's rows between PostgreSQL shards while
// writes go on: a resumable batched copy, change capture by triggers
// replayed idempotently, a VDiff-style verify (counts and checksums per
// source, destination and key range), a cutover that fences writes
// briefly, flips the map and refuses writes routed by the old one
// ([TagTx], [IsStaleRoute]), and a rollback in either direction.
//
// Cross-shard queries are expensive: [Scatter] runs one on some or all
// shards at once with a concurrency limit, a per-shard timeout and a
// failure policy (fail fast, or partial results with per-shard errors),
// and [Merge] gathers sorted results with a k-way merge that stops at the
// limit.
//
// A bad key creates hot shards: [Hot] measures per-shard rates and skew
// (busiest ÷ mean) and the top keys in bounded memory, as an API and as
// metrics, and [Hot.Suggest] names the key to isolate in a Directory.
//
// The empty key is a key like any other: KeyString("") is a fixed hash
// and routes to one fixed shard.
package shard
