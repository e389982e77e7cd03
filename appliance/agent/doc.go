// Package agent is Strongroom's ingest agent: it opens the vault and the
// catalog, runs backup jobs across the tenant's workloads in parallel,
// restores and exports, runs scheduled restore tests and scrubs, and
// serves all of that through one Service API (used in-process by the CLI,
// and over a unix socket by the CLI and the console when the daemon runs).
//
// Words used here:
//
//   - Run: one backup job. Every run commits exactly one snapshot, a
//     point-in-time view of the whole tenant: what this run downloaded plus
//     everything it carried over unchanged from the previous snapshot.
//   - Carry over: adding a previous snapshot's item to the new one without
//     downloading it (vault.Writer.Add), for unchanged items, for users
//     not selected in this run, for mailboxes that failed, and for departed
//     users, whose data is kept.
//   - Departed user: one who was backed up before and is gone from the
//     tenant (deleted or without a mailbox). Their data stays in every new
//     snapshot, marked as departed.
package agent
