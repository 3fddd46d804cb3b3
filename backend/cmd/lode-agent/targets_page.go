package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"text/tabwriter"

	"github.com/lode-logs/lode/backend/agent/tailer"
	"github.com/lode-logs/lode/backend/agent/targets"
)

// writeTargets serves /targets: discovered targets and followed files, as
// text, or as JSON with ?format=json.
func writeTargets(w http.ResponseWriter, r *http.Request, ts []targets.Status, fs []tailer.FileStatus) {
	if r.URL.Query().Get("format") == "json" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"targets": ts, "files": fs})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tPATH\tLABELS\tSTATUS")
	for _, t := range ts {
		status := "active"
		if t.Dropped != "" {
			status = "dropped: " + t.Dropped
		}
		lbls := t.Labels
		if lbls == "" {
			lbls = t.Discovered
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Job, t.Path, lbls, status)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "FILE\tJOB\tSTATE\tSIZE\tREAD\tACKNOWLEDGED")
	for _, f := range fs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\n", f.Path, f.Job, f.State, f.Size, f.Read, f.Committed)
	}
	_ = tw.Flush()
}
