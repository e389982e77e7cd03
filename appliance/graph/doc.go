// Package graph is the agent's Microsoft Graph client: msgraph-sdk-go with
// an explicit middleware chain, a configurable base URL and CA (so the
// local tenant simulator can stand in for Microsoft), and a throttle
// governor that every request passes through.
//
// Words used here:
//
//   - Resource: what Microsoft throttles by; for Exchange the mailbox
//     ("users/{id}"), for files the drive or site. At most PerResource
//     requests run against one resource at a time (Exchange allows 4).
//   - Pause: after a 429 or 503 every worker of the tenant waits until the
//     Retry-After has passed, so the agent backs off as a whole instead of
//     each worker hammering on its own.
//   - Retry: a throttled, unavailable or dropped request is retried a
//     bounded number of times with jittered backoff; after that the error
//     reaches the workload, which records the item as not completed.
//
// The package knows nothing of storage.
package graph
