//go:build !unix

package queue

func cpuTime() int64 { return 0 }
