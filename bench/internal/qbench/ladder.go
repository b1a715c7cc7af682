package qbench

// ladderEntries lists ladder's backends; they join as package queue's
// Worker and backends land.
func ladderEntries(Config) []Entry { return nil }
