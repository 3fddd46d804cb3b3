package cluster

import (
	"fmt"
	"iter"
	"maps"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/lode-logs/lode/backend/ring"
)

// ringKey is the FSM key of a ring member: 'g' | id.
func ringKey(id string) []byte { return append([]byte{nsRing}, id...) }

// loadRing reads the ring members from the database into f.members and
// publishes the ring built from them.
func (f *fsm) loadRing() error {
	members := map[string]ring.Instance{}
	err := f.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{nsRing}, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			err := it.Item().Value(func(v []byte) error {
				in, err := ring.ReadInstance(v)
				if err != nil {
					return fmt.Errorf("ring member %q: %w", it.Item().Key()[1:], err)
				}
				members[in.ID] = in
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load ring: %w", err)
	}
	f.members = members
	f.publishRing()
	return nil
}

// publishRing builds the immutable ring from f.members.
func (f *fsm) publishRing() {
	ins := slices.Collect(maps.Values(f.members))
	f.ring.Store(ring.New(ins, f.heartbeatTimeout))
	f.metrics.setRing(ins)
}

// ringWork returns the members map the current apply batch changes: a
// copy of f.members, taken at the batch's first ring command, that becomes
// f.members only when the batch commits.
func (f *fsm) ringWork() map[string]ring.Instance {
	if f.pendingMembers == nil {
		f.pendingMembers = maps.Clone(f.members)
	}
	return f.pendingMembers
}

func (f *fsm) putMember(txn *splitTxn, in ring.Instance) error {
	f.ringWork()[in.ID] = in
	return txn.Set(ringKey(in.ID), ring.AppendInstance(nil, &in))
}

// applyRegister adds a member or updates its addresses, role and state.
// Tokens are kept once assigned; proposed tokens that another member owns
// are dropped, so that tokens stay unique on every replica alike.
func (f *fsm) applyRegister(txn *splitTxn, now int64, body []byte) (rejected, err error) {
	in, err := ring.ReadInstance(body)
	if err != nil {
		return fmt.Errorf("%w: register: %w", ErrRejected, err), nil
	}
	if !nodeIDPattern.MatchString(in.ID) {
		return fmt.Errorf("%w: register: bad member id %q", ErrRejected, in.ID), nil
	}
	members := f.ringWork()
	old, exists := members[in.ID]
	if exists {
		in.Registered = old.Registered
		if len(old.Tokens) > 0 && in.Ingester {
			in.Tokens = old.Tokens
		}
	} else {
		in.Registered = now
	}
	if !in.Ingester {
		in.Tokens = nil
	}
	in.Tokens = freeTokens(members, in.ID, in.Tokens)
	in.Heartbeat = max(in.Heartbeat, now, old.Heartbeat)
	return nil, f.putMember(txn, in)
}

// freeTokens returns the tokens of ts (sorted, unique) not owned by
// another member.
func freeTokens(members map[string]ring.Instance, id string, ts []uint32) []uint32 {
	taken := tokensOfOthers(maps.Values(members), id)
	out := slices.DeleteFunc(slices.Clone(ts), func(t uint32) bool { return taken[t] })
	slices.Sort(out)
	return slices.Compact(out)
}

// tokensOfOthers returns the tokens of the members other than id.
func tokensOfOthers(members iter.Seq[ring.Instance], id string) map[uint32]bool {
	taken := map[uint32]bool{}
	for m := range members {
		if m.ID != id {
			for _, t := range m.Tokens {
				taken[t] = true
			}
		}
	}
	return taken
}

// applyHeartbeats records heartbeats of known members; unknown ids (a
// member removed meanwhile) are ignored.
func (f *fsm) applyHeartbeats(txn *splitTxn, body []byte) (rejected, err error) {
	hbs, err := decodeHeartbeats(body)
	if err != nil {
		return err, nil
	}
	members := f.ringWork()
	for _, hb := range hbs {
		in, ok := members[hb.id]
		if !ok || hb.time <= in.Heartbeat && hb.applied <= in.AppliedIndex {
			continue
		}
		in.Heartbeat = max(in.Heartbeat, hb.time)
		in.AppliedIndex = max(in.AppliedIndex, hb.applied)
		if err := f.putMember(txn, in); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// applySetState changes a member's state.
func (f *fsm) applySetState(txn *splitTxn, body []byte) (rejected, err error) {
	id, st, err := decodeSetState(body)
	if err != nil {
		return err, nil
	}
	members := f.ringWork()
	in, ok := members[id]
	if !ok {
		return fmt.Errorf("%w: set state: no member %q", ErrRejected, id), nil
	}
	in.State = st
	return nil, f.putMember(txn, in)
}

// applyRemove removes members; unknown ids are ignored.
func (f *fsm) applyRemove(txn *splitTxn, body []byte) (rejected, err error) {
	ids, err := decodeIDs(body)
	if err != nil {
		return err, nil
	}
	members := f.ringWork()
	for _, id := range ids {
		if _, ok := members[id]; !ok {
			continue
		}
		delete(members, id)
		if err := txn.Delete(ringKey(id)); err != nil {
			return nil, err
		}
	}
	return nil, nil
}
