package testbed

import (
	"fmt"
	"sort"
	"strings"

	"github.com/contactsync/contactsync/adapters/faultproxy"
)

// Report is what a run did and found. It marshals to the JSON `contactsync testbed --json` prints.
type Report struct {
	Seed    uint64 `json:"seed"`
	Server  string `json:"server"`
	Devices int    `json:"devices"`
	// InitialContacts were on the server before the devices started; Contacts are there at the end.
	InitialContacts int `json:"initial_contacts"`
	Contacts        int `json:"contacts"`
	// Edits counts the acknowledged edits by kind (the initial contacts not included); Concurrent counts
	// those made on several devices at the same instant; Skipped, the planned edits whose contact was not on
	// the device at that instant.
	Edits      map[Kind]int `json:"edits"`
	EditsTotal int          `json:"edits_total"`
	Concurrent int          `json:"concurrent_edits"`
	Skipped    int          `json:"skipped_edits"`
	// Kills counts the SIGKILLs of worker processes; WorkerExits the workers that stopped by themselves.
	Kills       int `json:"kills"`
	WorkerExits int `json:"worker_exits"`
	// Faults counts the faults the proxy injected, by kind.
	Faults      map[faultproxy.Kind]int64 `json:"faults"`
	FaultsTotal int64                     `json:"faults_total"`
	// Requests counts the HTTP requests the devices sent (through the proxy).
	Requests int64 `json:"requests"`
	// Retries counts requests the engine tried again; SyncRetries, syncs a worker tried again after one
	// failed.
	Retries     int `json:"retries"`
	SyncRetries int `json:"sync_retries"`
	// Conflicts counts the distinct conflicts the devices recorded.
	Conflicts int `json:"conflicts"`
	// EditSeconds is the length of the edit phase; ConvergeSeconds, the time from its end (faults and kills
	// stopped) until every device held what the server holds; TotalSeconds, the whole run.
	EditSeconds     float64 `json:"edit_seconds"`
	ConvergeSeconds float64 `json:"converge_seconds"`
	TotalSeconds    float64 `json:"total_seconds"`
	// EditsPerSecond and RequestsPerSecond are the throughput of the edit phase and of the whole run.
	EditsPerSecond    float64 `json:"edits_per_second"`
	RequestsPerSecond float64 `json:"requests_per_second"`
	// ThirdParty is what the third-party client did, when one took part.
	ThirdParty *ThirdParty `json:"third_party,omitempty"`
	// Converged reports that every device came to hold what the server holds before ConvergeTimeout.
	Converged bool `json:"converged"`
	// Problems lists every failed check; a run passes when it is empty.
	Problems []Problem `json:"problems"`
	Passed   bool      `json:"passed"`
}

// ThirdParty reports a third-party client's part in a run. Its edits count as acknowledged once the server
// shows them; an edit its own conflict resolution threw away counts as dropped.
type ThirdParty struct {
	Client       string `json:"client"`
	Syncs        int    `json:"syncs"`
	FailedSyncs  int    `json:"failed_syncs"`
	Acknowledged int    `json:"acknowledged_edits"`
	Dropped      int    `json:"dropped_edits"`
	LastError    string `json:"last_error,omitempty"`
}

// String renders the report for a person.
func (r Report) String() string {
	var b strings.Builder
	verdict := "PASS"
	if !r.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "testbed %s: seed %d, %d devices, server %s\n", verdict, r.Seed, r.Devices, r.Server)
	fmt.Fprintf(&b, "  contacts    %d at start, %d at end\n", r.InitialContacts, r.Contacts)
	fmt.Fprintf(&b, "  edits       %d acknowledged (%s), %d of them concurrent, %d skipped\n", r.EditsTotal, countsText(r.Edits), r.Concurrent, r.Skipped)
	fmt.Fprintf(&b, "  kills       %d (workers that exited by themselves: %d)\n", r.Kills, r.WorkerExits)
	fmt.Fprintf(&b, "  faults      %d (%s)\n", r.FaultsTotal, countsText(r.Faults))
	fmt.Fprintf(&b, "  requests    %d (%.0f/s), retries %d, syncs retried %d\n", r.Requests, r.RequestsPerSecond, r.Retries, r.SyncRetries)
	fmt.Fprintf(&b, "  conflicts   %d recorded\n", r.Conflicts)
	if tp := r.ThirdParty; tp != nil {
		fmt.Fprintf(&b, "  %-11s %d syncs (%d failed), %d of its edits reached the server, %d dropped by its conflict rule\n",
			tp.Client, tp.Syncs, tp.FailedSyncs, tp.Acknowledged, tp.Dropped)
	}
	converge := fmt.Sprintf("%.1fs", r.ConvergeSeconds)
	if !r.Converged {
		converge = "did not converge"
	}
	fmt.Fprintf(&b, "  time        edits %.1fs (%.1f edits/s), converge %s, total %.1fs\n", r.EditSeconds, r.EditsPerSecond, converge, r.TotalSeconds)
	if r.Passed {
		b.WriteString("  checks      every device holds exactly the server's contacts; no duplicate; no acknowledged edit lost\n")
	}
	const shown = 20
	for i, p := range r.Problems {
		if i == shown {
			fmt.Fprintf(&b, "  … and %d more problems\n", len(r.Problems)-shown)
			break
		}
		fmt.Fprintf(&b, "  PROBLEM     %s\n", p)
	}
	return b.String()
}

func countsText[K ~string, V int | int64](m map[K]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[K(k)]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
