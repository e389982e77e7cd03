package agent

import (
	"io"

	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// jobSink passes what a workload writes on to next and counts it into
// the progress of job as it is written, so a long mailbox shows progress
// before it is done.
type jobSink struct {
	next workloads.Sink
	a    *Agent
	job  *JobStatus
}

// Put implements workloads.Sink: a new or changed item, its bytes
// downloaded.
func (s jobSink) Put(it vault.Item, r io.Reader) (vault.Item, error) {
	got, err := s.next.Put(it, r)
	if err == nil {
		s.a.updateJob(s.job, func(j *JobStatus) { j.Items++; j.Bytes += got.Size })
	}
	return got, err
}

// Add implements workloads.Sink: an unchanged item kept.
func (s jobSink) Add(it vault.Item) error {
	err := s.next.Add(it)
	if err == nil {
		s.a.updateJob(s.job, func(j *JobStatus) { j.Items++ })
	}
	return err
}

// throttleSince fills a job's throttling fields from what gov counted
// since before.
func throttleSince(gov *graph.Governor, before graph.Stats) func(j *JobStatus) {
	return func(j *JobStatus) {
		now := gov.Stats()
		j.Throttled, j.ThrottlePaused = now.Throttled-before.Throttled, now.Paused-before.Paused
	}
}
