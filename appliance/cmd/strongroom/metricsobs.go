package main

import (
	"github.com/strongroom/strongroom/appliance/metrics"
)

// metricsObserver feeds the agent's events into its Prometheus metrics.
type metricsObserver struct{ *metrics.Metrics }

// Request counts one Graph response.
func (o metricsObserver) Request(workload string, status int) { o.GraphRequest(workload, status) }
