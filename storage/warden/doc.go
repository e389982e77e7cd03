// Package warden is the vault's privileged, network-less custodian: the only
// role that seals vault files (immutable) and directories (append-only),
// the only one that removes anything, and the owner of the trusted clock.
//
// Words used in this package:
//
//   - Ledger: the warden's own record, in its state directory, of every
//     snapshot (retain-until, segments) and segment it sealed. Hash-chained
//     JSON lines plus a head file, so a truncated or edited ledger is seen.
//   - Seal round: seal first, then read and record what is now sealed.
//   - Expiry round: take the vault from the agent, seal and record, check
//     the disks, and remove what the ledger says has expired on the
//     warden's clock. Anything missing, moved or disagreeing stops it:
//     remove nothing, alert.
//   - Frozen: expiry suspended until an operator confirms (a clock jump, a
//     lost or unreadable clock state, a rebuilt ledger).
//   - Status: what the warden publishes (status.json) for the agent's
//     metrics and the console; alerts are listed there.
//
// storage/FORMAT.md ("Trust boundary") states what the agent can and cannot
// do and what the warden trusts.
package warden
