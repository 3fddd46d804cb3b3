//go:build linux

package ingester

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestVlogPagesRelease fills several value log files, then checks that a
// release round takes the pages of every file but the newest out of the
// resident set, and that every value still reads back intact.
func TestVlogPagesRelease(t *testing.T) {
	dir := t.TempDir()
	opts := badger.DefaultOptions(dir).WithLogger(nil).WithValueLogFileSize(1 << 20).WithValueThreshold(1 << 10).
		WithMemTableSize(8 << 20).WithNumMemtables(1).WithMetricsEnabled(false)
	db, err := badger.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	vals := map[string][]byte{}
	for k := range 96 { // 96 x 64 KiB: 6 MiB over 6 or more files
		v := make([]byte, 64<<10)
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		key := fmt.Sprintf("k%03d", k)
		vals[key] = v
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(key), v) }); err != nil {
			t.Fatal(err)
		}
	}
	abs, _ := filepath.Abs(dir)
	before := residentVlog(t, abs)
	if before.files < 3 || before.older < 2<<20 {
		t.Fatalf("setup: %d value log files, %d bytes of older files resident; want several MiB", before.files, before.older)
	}
	v := newVlogPages(dir)
	if err := v.release(); err != nil {
		t.Fatal(err)
	}
	after := residentVlog(t, abs)
	if after.older > before.older/8 {
		t.Errorf("older value log files: %d bytes resident after release, %d before", after.older, before.older)
	}
	err = db.View(func(txn *badger.Txn) error {
		for k, want := range vals {
			item, err := txn.Get([]byte(k))
			if err != nil {
				return err
			}
			got, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if !bytes.Equal(got, want) {
				return fmt.Errorf("value of %s changed", k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type vlogResidency struct {
	files int
	older int64 // resident bytes of all files but the newest
}

// residentVlog sums the resident bytes of the value log files of dir from
// /proc/self/smaps.
func residentVlog(t *testing.T, dir string) vlogResidency {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rss := map[int]int64{}
	fid := -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			fid = -1
			if len(fields) >= 6 && filepath.Dir(fields[5]) == dir && strings.HasSuffix(fields[5], ".vlog") {
				fid, _ = strconv.Atoi(strings.TrimSuffix(filepath.Base(fields[5]), ".vlog"))
			}
			continue
		}
		if fid >= 0 && len(fields) >= 2 && fields[0] == "Rss:" {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			rss[fid] += kb << 10
		}
	}
	var r vlogResidency
	newest := -1
	for id := range rss {
		newest = max(newest, id)
	}
	for id, b := range rss {
		r.files++
		if id != newest {
			r.older += b
		}
	}
	return r
}
