// Package tail delivers entries to live-tail subscribers (Loki's
// /loki/api/v1/tail) as they are written. Hub wraps the component that makes
// pushes durable: after a push is acknowledged by it, the pushed streams are
// offered to every subscription of the tenant whose matchers select them.
//
// Subscribers are slow consumers by nature, so delivery never blocks a
// push: each subscription has a bounded queue, and entries that do not fit
// are counted as dropped (reported to the client as Loki reports
// dropped_entries) instead of being waited for.
//
// Hub and Subscription are goroutine-safe. Entries handed to subscribers
// are copies they own. When there are no subscribers a push costs one
// atomic load.
package tail
