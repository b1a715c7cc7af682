package queue

import "testing"

// Done attempts' durations are all recorded below recordRate a second
// (bursts of recordBurst included), and at most recordRate a second on
// average plus one burst above it.
func TestDurationSampling(t *testing.T) {
	var q queueTel
	// Steady, at the rate: every one recorded.
	now := int64(1)
	for i := range 3 * recordRate {
		if !q.sample(now) {
			t.Fatalf("job %d at the rate limit: not recorded", i)
		}
		now += recordGap
	}
	// A burst at one instant after an idle second: recordBurst+1 recorded.
	now += int64(1e9)
	n := 0
	for range 100_000 {
		if q.sample(now) {
			n++
		}
	}
	if n != recordBurst+1 {
		t.Fatalf("burst of 100000: %d recorded, want %d", n, recordBurst+1)
	}
	// 1M jobs over one second: about recordRate recorded, never more than
	// recordRate + recordBurst.
	q = queueTel{}
	n = 0
	for i := range 1_000_000 {
		if q.sample(now + int64(i)*1000) {
			n++
		}
	}
	if n < recordRate || n > recordRate+recordBurst+1 {
		t.Fatalf("1M jobs in 1s: %d recorded, want %d…%d", n, recordRate, recordRate+recordBurst+1)
	}
}
