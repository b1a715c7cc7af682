package replica_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/replica"
)

// Every bad configuration fails New with ErrInvalidOptions (or ErrNoPrimary),
// naming the field and value, with the package prefix once.
func TestNewRejectsBadConfiguration(t *testing.T) {
	c := newCluster(t, "r1", "r2")
	p := fakePositions{}
	for _, tc := range []struct {
		name     string
		primary  bool
		replicas []replica.Replica
		opts     replica.Options
		want     string
	}{
		{"no primary", false, nil, replica.Options{}, "replica: no primary: primary is nil"},
		{"nil replica DB", true, []replica.Replica{{Name: "x"}}, replica.Options{}, `replica: invalid options: replica "x": DB is nil`},
		{"replica is the primary's pool", true, []replica.Replica{{DB: c.db("primary")}}, replica.Options{}, `replica: invalid options: replica "replica1": same *sql.DB as "primary"`},
		{"duplicate name", true, []replica.Replica{{Name: "a", DB: c.db("r1")}, {Name: "a", DB: c.db("r2")}}, replica.Options{}, `replica: invalid options: replica "a": name used twice`},
		{"replica named primary", true, []replica.Replica{{Name: "primary", DB: c.db("r1")}}, replica.Options{}, `replica: invalid options: replica "primary": name used twice`},
		{"negative weight", true, []replica.Replica{{DB: c.db("r1"), Weight: -1}}, replica.Options{}, `replica: invalid options: replica "replica1": Weight -1: must be ≥ 0`},
		{"causal without positions", true, nil, replica.Options{ReadYourWrites: replica.RYWCausalWait}, "replica: invalid options: ReadYourWrites causal_wait: needs Positions"},
		{"coordinate without positions", true, nil, replica.Options{Failover: replica.FailoverCoordinate}, "replica: invalid options: Failover coordinate: needs Positions"},
		{"unknown mode", true, nil, replica.Options{ReadYourWrites: 99}, "replica: invalid options: ReadYourWrites ReadYourWrites(99): unknown mode"},
		{"unknown failover", true, nil, replica.Options{Failover: 9}, "replica: invalid options: Failover Failover(9): unknown mode"},
		{"negative pin", true, nil, replica.Options{Pin: -1}, "replica: invalid options: Pin -1ns: must be ≥ 0"},
		{"negative wait", true, nil, replica.Options{Positions: p, WaitTimeout: -time.Second}, "replica: invalid options: WaitTimeout -1s: must be ≥ 0"},
		{"negative max lag", true, nil, replica.Options{MaxLag: -1}, "MaxLag -1ns: must be ≥ 0"},
		{"negative probe interval", true, nil, replica.Options{ProbeInterval: -1}, "ProbeInterval -1ns"},
		{"negative probe timeout", true, nil, replica.Options{ProbeTimeout: -1}, "ProbeTimeout -1ns"},
		{"negative promote timeout", true, nil, replica.Options{PromoteTimeout: -1}, "PromoteTimeout -1ns"},
		{"negative token TTL", true, nil, replica.Options{TokenTTL: -1}, "TokenTTL -1ns"},
		{"negative failover after", true, nil, replica.Options{FailoverAfter: -1}, "FailoverAfter -1: must be ≥ 0"},
		{"short key", true, nil, replica.Options{TokenKey: []byte("short")}, "replica: invalid options: TokenKey of 5 bytes: must have at least 16 bytes"},
		{"short previous key", true, nil, replica.Options{PreviousTokenKeys: [][]byte{[]byte("x")}}, "PreviousTokenKeys[0] of 1 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			primary := c.db("primary")
			if !tc.primary {
				primary = nil
			}
			tc.opts.Logger = quiet
			r, err := replica.New(primary, tc.replicas, tc.opts)
			if err == nil {
				_ = r.Close()
				t.Fatal("New succeeded")
			}
			if !errors.Is(err, replica.ErrInvalidOptions) && !errors.Is(err, replica.ErrNoPrimary) {
				t.Errorf("error %v wraps neither ErrInvalidOptions nor ErrNoPrimary", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
			if strings.Count(err.Error(), "replica:") != 1 {
				t.Errorf("error %q repeats the package prefix", err)
			}
		})
	}
}
