// Package rediscache puts a shared Redis tier (L2) under a process-local
// cache.Aside (L1), and keeps every instance's L1 honest with invalidations
// over Redis pub/sub: a Delete or Set on one instance evicts the key from the
// L1 of every instance.
//
// Stage of growth: "cache and CDN", once the service runs on several
// instances. A local cache per instance multiplies the misses by the number
// of instances and lets them disagree; a shared L2 takes the misses of all of
// them, and pub/sub invalidation bounds how long they disagree.
//
// Redis is an optimisation, never a dependency: when it is unreachable, reads
// degrade to L1 plus the loader (never to errors), and L2 is skipped for a
// short back-off instead of paying a timeout on every miss. An instance
// hears invalidations once its subscription is confirmed ([Cache.Ready]
// waits for that; whatever L1 took in before is dropped then), and after a
// lost subscription it clears L1, since invalidations sent meanwhile are
// gone. Values over [Options.MaxValueSize] never go to Redis.
//
// The client is a redis.UniversalClient, so a single server, Sentinel or
// Redis Cluster all work. In a cluster, PUBLISH reaches every node's
// subscribers; keys spread over slots freely because no command here spans
// two keys. Through a Sentinel failover every Get is still answered (L1, else
// the loader), and the subscription moves to the new master, clearing L1 as
// after any lost subscription.
package rediscache
