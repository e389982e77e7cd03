package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// departedRecord is the marker a departed unit gets, beside its items.
const departedRecord = "_departed.json"

// backupRun is one run writing one snapshot.
type backupRun struct {
	a    *Agent
	g    *graph.Client
	p    *backupPlan
	w    *vault.Writer
	sink workloads.Sink
	rep  *BackupReport
	job  *JobStatus
	// stop ends the run's context: a vault write failed.
	stop context.CancelFunc

	mu sync.Mutex
	// carryErr is the first failure to carry previous data over: the
	// snapshot would lack data the previous one had and must not be
	// committed. storeErr is the first vault write a workload failed.
	carryErr, storeErr error
}

func (r *backupRun) setErr(dst *error, err error) {
	r.mu.Lock()
	if *dst == nil {
		*dst = err
	}
	r.mu.Unlock()
}

// carryDeparted carries every unit of the previous snapshot that no
// workload found in the tenant any more, and marks it departed.
func (r *backupRun) carryDeparted() error {
	present := map[string]bool{}
	for _, pu := range r.p.units {
		present[workloads.Prefix(pu.w.Name(), pu.u.ID)] = true
	}
	for _, w := range r.a.workloads {
		for _, id := range r.p.prev.unitIDs(w.Name()) {
			prefix := workloads.Prefix(w.Name(), id)
			if present[prefix] {
				continue
			}
			name, n, err := r.carryUnit(prefix, id, true)
			if err != nil {
				return err
			}
			r.rep.Units = append(r.rep.Units, UnitReport{Workload: w.Name(), State: UnitDeparted,
				Unit: workloads.Unit{ID: id, Name: name, Deleted: true}, Result: workloads.Result{Items: n, CarriedItems: n}})
		}
	}
	return nil
}

// backupUnits backs up every planned unit with the configured number of
// workers. A vault write that fails ends the run: the other units stop.
func (r *backupRun) backupUnits(ctx context.Context) error {
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	r.stop = stopRun
	jobs := make(chan plannedUnit)
	var wg sync.WaitGroup
	for i := 0; i < max(1, r.a.cfg.Workers); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pu := range jobs {
				ur := r.backupUnit(runCtx, pu)
				r.mu.Lock()
				r.rep.Units = append(r.rep.Units, ur)
				r.mu.Unlock()
				r.a.updateJob(r.job, func(j *JobStatus) { j.UnitsDone++ }) // items and bytes: jobSink
			}
		}()
	}
	for _, pu := range r.p.units {
		select {
		case jobs <- pu:
		case <-runCtx.Done():
		}
		if runCtx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if r.storeErr != nil {
		return fmt.Errorf("%w; the run was stopped and nothing of it was committed. Check the disks: strongroom vault status; if chunks are missing from the index: strongroom vault rebuild-index", r.storeErr)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("backup cancelled: %w; nothing of this run was committed, the next run starts again", err)
	}
	if r.carryErr != nil {
		// Committing now would make a restore point that silently lacks
		// data the previous one had.
		return fmt.Errorf("%w; nothing of this run was committed", r.carryErr)
	}
	return nil
}

// backupUnit backs up one unit, or carries it when it is not selected or
// could not be backed up.
func (r *backupRun) backupUnit(ctx context.Context, pu plannedUnit) UnitReport {
	name := pu.w.Name()
	prefix := workloads.Prefix(name, pu.u.ID)
	ur := UnitReport{Workload: name, Unit: pu.u, State: UnitBackedUp}
	if !r.p.isSelected(pu.u) {
		n := r.carry(ctx, prefix, pu.u.ID, false)
		ur.State, ur.Items, ur.CarriedItems = UnitCarried, n, n
		return ur
	}
	res, err := pu.w.Backup(ctx, r.g, r.sink, r.p.prev, pu.u)
	ur.Result = res
	switch {
	case err == nil:
	case errors.Is(err, workloads.ErrStore):
		ur.State, ur.Error = UnitFailed, err.Error()
		r.setErr(&r.storeErr, err)
		r.stop()
	case errors.Is(err, workloads.ErrUnitGone):
		// Gone: departed when it was backed up before (its data is
		// kept), otherwise there is nothing to protect.
		ur.State = UnitNoData
		if r.p.prev.has(prefix) {
			ur.State = UnitDeparted
			ur.addCarried(r.keep(ctx, prefix, pu.u, res, true))
		}
	default:
		ur.State, ur.Error = UnitFailed, graph.Explain(err).Error()
		ur.addCarried(r.keep(ctx, prefix, pu.u, res, false))
	}
	return ur
}

// keep keeps what a unit that failed (or is gone) had in the previous
// snapshot and returns how many items (catalog.IsUserItem) it carried
// itself. A workload's Backup writes nothing before it fails as a whole
// (Result.Written is then 0) and the agent carries the whole unit over.
// After its first write it no longer fails for a collection: it carries
// what it could not read itself, and carrying the unit again would record
// each item twice. Only the departed marker is then added.
func (r *backupRun) keep(ctx context.Context, prefix string, u workloads.Unit, res workloads.Result, departed bool) int {
	if ctx.Err() != nil {
		return 0 // the run is ending and commits nothing
	}
	if res.Written == 0 {
		return r.carry(ctx, prefix, u.ID, departed)
	}
	if departed {
		if err := r.markDeparted(prefix, u.ID, u.Name); err != nil {
			r.setErr(&r.carryErr, err)
		}
	}
	return 0
}

// carry carries a unit over whole and returns how many items it carried.
func (r *backupRun) carry(ctx context.Context, prefix, id string, departed bool) int {
	if ctx.Err() != nil {
		return 0
	}
	_, n, err := r.carryUnit(prefix, id, departed)
	if err != nil {
		r.setErr(&r.carryErr, err)
	}
	return n
}

// carryUnit adds every previous item under prefix to the new snapshot
// and returns the unit's name as last recorded and how many of them are
// items (catalog.IsUserItem). With departed, a departed marker is added
// when the unit has none yet. An error means the new snapshot would lack
// some of the unit's data: the run must not commit.
func (r *backupRun) carryUnit(prefix, id string, departed bool) (string, int, error) {
	name := id
	hasMarker := false
	n := 0
	err := r.p.prev.Each(prefix, func(it vault.Item) error {
		if u := it.Meta[catalog.MetaUser]; u != "" {
			name = u
		}
		if it.Path == prefix+departedRecord {
			hasMarker = true
		}
		if catalog.IsUserItem(it.Meta[catalog.MetaKind]) {
			n++
		}
		return r.w.Add(it)
	})
	if err != nil {
		return name, n, fmt.Errorf("carry over the backed-up data of %s: %w", name, err)
	}
	if departed && !hasMarker {
		if err := r.putDepartedMarker(prefix, id, name); err != nil {
			return name, n, err
		}
	}
	return name, n, nil
}

// markDeparted records a unit as departed when its items are already in
// the new snapshot: the previous marker is carried over, or a new one is
// written.
func (r *backupRun) markDeparted(prefix, id, name string) error {
	if it, ok := r.p.prev.Get(prefix + departedRecord); ok {
		if err := r.w.Add(it); err != nil {
			return fmt.Errorf("mark %s as departed: %w", name, err)
		}
		return nil
	}
	return r.putDepartedMarker(prefix, id, name)
}

func (r *backupRun) putDepartedMarker(prefix, id, name string) error {
	body, _ := json.Marshal(map[string]string{"user_id": id, "upn": name, "departed_at": r.a.now().UTC().Format(time.RFC3339)})
	_, err := r.w.Put(vault.Item{Path: prefix + departedRecord, Meta: map[string]string{catalog.MetaKind: catalog.KindUser,
		catalog.MetaUserID: id, catalog.MetaUser: name, "departed": "true"}}, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("mark %s as departed: %w", name, err)
	}
	return nil
}
