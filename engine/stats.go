package engine

import (
	"fmt"
	"time"
)

// Stats counts what a sync did.
type Stats struct {
	// Uploaded counts contacts written to the server; Downloaded, contacts written to the device from it.
	Uploaded, Downloaded int
	// Merged counts contacts changed on both sides and merged three ways.
	Merged int
	// DeletedRemote counts contacts deleted on the server; DeletedLocal, on the device.
	DeletedRemote, DeletedLocal int
	// Conflicts counts fields both sides changed differently (the losing values are recorded).
	Conflicts int
	// SetAside counts items the sync went past (see RemoteStatus.SetAside).
	SetAside int
	// Retries counts requests tried again after a retryable failure.
	Retries int
	// Requests and Bytes are what the Meter counted (zero without WithMeter).
	Requests, Bytes int64
	// Duration is the wall time spent.
	Duration time.Duration

	// localWrites counts merges and re-uploads written to the device that the next push must send.
	localWrites int
}

// Add adds o's counts to s.
func (s *Stats) Add(o Stats) {
	s.Uploaded += o.Uploaded
	s.Downloaded += o.Downloaded
	s.Merged += o.Merged
	s.DeletedRemote += o.DeletedRemote
	s.DeletedLocal += o.DeletedLocal
	s.Conflicts += o.Conflicts
	s.SetAside += o.SetAside
	s.Retries += o.Retries
	s.Requests += o.Requests
	s.Bytes += o.Bytes
	s.Duration += o.Duration
	s.localWrites += o.localWrites
}

// String is the one-line summary the CLI prints.
func (s Stats) String() string {
	return fmt.Sprintf("uploaded %d, downloaded %d, merged %d, deleted %d remote / %d local, conflicts %d, set aside %d, requests %d, %s",
		s.Uploaded, s.Downloaded, s.Merged, s.DeletedRemote, s.DeletedLocal, s.Conflicts, s.SetAside, s.Requests,
		s.Duration.Round(time.Millisecond))
}

// Progress reports how far a push or pull has come.
type Progress struct {
	Remote string
	// Phase is "push" or "pull".
	Phase       string
	Done, Total int
}
