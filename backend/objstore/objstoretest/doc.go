// Package objstoretest is the conformance suite every objstore.Bucket
// implementation must pass. Run it from a test of the implementation:
//
//	func TestFilesystem(t *testing.T) {
//		objstoretest.Run(t, func(t *testing.T) objstore.Bucket { ... })
//	}
//
// newBucket is called once per subtest and must return an empty bucket
// that lives as long as that subtest (register cleanups on its t).
//
// The suite covers Put/Get, GetRange edge cases (length -1, zero, cut at
// the end, offsets at and past the end, negative), identical overwrites,
// ErrNotFound on Get/GetRange/Exists and silent Delete of missing keys,
// Iter order and prefixes (including names that sort around '/'), callback
// errors ending Iter, invalid keys, concurrent writers of the same and of
// distinct keys, a 20 MiB object, and Put with a canceled context. Subtests
// run sequentially; the concurrent case runs its own goroutines.
package objstoretest
