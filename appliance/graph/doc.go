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
//   - Pause: after a throttle, requests wait until the Retry-After has
//     passed, together instead of each one hammering on its own. A 429 on
//     a mailbox's Outlook data (users/{id}/messages, mailFolders,
//     contacts, events, calendars, ...) pauses that mailbox only: Exchange
//     limits each mailbox on its own, and the others may go on. A 503, or
//     a 429 on anything else (the user listing, $batch, groups, sites,
//     drives), pauses every request of the tenant.
//   - Retry: a throttled, unavailable or dropped request is retried a
//     bounded number of times with jittered backoff; after that the error
//     reaches the workload, which records the item as not completed.
//
// The package knows nothing of storage.
package graph
