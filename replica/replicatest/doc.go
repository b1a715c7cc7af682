// Package replicatest holds what users need to test code built on package
// replica without PostgreSQL: [RunPositions] and [RunPromote], the
// conformance suite every [replica.Positions] implementation passes.
//
// Stage: 3/5 (load balancer and replicas).
package replicatest
