package agent

import "github.com/strongroom/strongroom/appliance/workloads"

// SetSinkWrapper makes the agent's backups write through wrap(writer).
func SetSinkWrapper(a *Agent, wrap func(workloads.Sink) workloads.Sink) { a.wrapSink = wrap }

// SetObserver replaces the agent's observer.
func SetObserver(a *Agent, o Observer) { a.obs = o }
