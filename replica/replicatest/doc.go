// Package replicatest holds what users need to test code built on package
// replica without PostgreSQL: [Pair], an in-process primary and replica on
// SQLite whose replica really replays the primary's committed writes behind
// a lag the test controls, and implements [replica.Positions]; and
// [RunPositions] and [RunPromote], the conformance suite every
// [replica.Positions] implementation passes (pgreplica's does, against a real
// PostgreSQL primary and streaming replica).
//
// Stage: 3/5 (load balancer and replicas).
package replicatest
