package agent

import (
	"io"
	"time"

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

// jobSource passes a restore's reads on to next and counts each item
// read into the progress of job.
type jobSource struct {
	next workloads.Source
	a    *Agent
	job  *JobStatus
}

// WriteItem implements workloads.Source.
func (s jobSource) WriteItem(w io.Writer, it vault.Item) error {
	err := s.next.WriteItem(w, it)
	if err == nil {
		s.a.updateJob(s.job, func(j *JobStatus) { j.UnitsDone++; j.Items++; j.Bytes += it.Size })
	}
	return err
}

// itemsJob is the status of a job that works through items, with their
// count and bytes as its total.
func itemsJob(kind, phase, noun, message string, started time.Time, items []vault.Item) *JobStatus {
	j := &JobStatus{Kind: kind, Started: started, Phase: phase, Noun: noun, Message: message, UnitsAll: len(items)}
	for _, it := range items {
		j.BytesAll += it.Size
	}
	return j
}

// watchVault puts a scrub's or a disk rebuild's progress into job.
func (a *Agent) watchVault(job *JobStatus) func(vault.Work) {
	return func(w vault.Work) {
		a.updateJob(job, func(j *JobStatus) {
			j.UnitsDone, j.UnitsAll, j.Bytes = w.Segments, w.SegmentsAll, w.BytesRead
		})
	}
}
