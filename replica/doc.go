// Package replica routes database/sql reads to replicas and writes to the primary,
// with read-your-writes consistency.
//
// Stage: 3/5 (in development).
package replica
