package config

import (
	"fmt"
	"strings"
)

// Roles are the parts of Lode a process runs (-target).
type Roles struct {
	Distributor bool // push API; replicates streams to the ring's ingesters
	Ingester    bool // buffers streams in Badger and flushes chunks
	Querier     bool // query API over the index, object storage and ingesters
	Frontend    bool // splits and caches range queries in front of queriers
}

// Cluster reports whether the roles need a cluster node (the Raft FSM
// replica with the ring and the index): all but a lone query frontend do.
func (r Roles) Cluster() bool { return r.Distributor || r.Ingester || r.Querier }

// ParseTarget parses a comma-separated -target value.
func ParseTarget(s string) (Roles, error) {
	var r Roles
	for _, t := range strings.Split(s, ",") {
		switch strings.TrimSpace(t) {
		case "all":
			r = Roles{Distributor: true, Ingester: true, Querier: true, Frontend: true}
		case "distributor":
			r.Distributor = true
		case "ingester":
			r.Ingester = true
		case "querier":
			r.Querier = true
		case "query-frontend":
			r.Frontend = true
		default:
			return Roles{}, fmt.Errorf("target %q: want a comma-separated list of all, distributor, ingester, querier, query-frontend", t)
		}
	}
	return r, nil
}

// Roles returns the parsed -target (valid after Validate).
func (c *Config) Roles() Roles {
	r, _ := ParseTarget(c.Target)
	return r
}
