// Package offsite copies a vault to an S3-compatible object store with
// Object Lock, and reads it back for disaster recovery.
//
// Words used here:
//
//   - Store: one bucket of an S3 server (AWS S3, MinIO, Ceph, versitygw)
//     with versioning and Object Lock enabled; Check refuses any other.
//   - Copy: what one vault keeps in the store, under
//     "<prefix>/<vault id>/": the wrapped master key ("keyfile"), every
//     segment's payload without local parity ("segments/<16 hex id>-<BLAKE3-256
//     of the payload>", the store keeps its own redundancy), and every
//     manifest and retention record under "snapshots/" with the names they
//     have on disk, and an index checkpoint per sync ("index/"): the sealed
//     tables of the segments it uploaded, so recovery finds chunks without
//     reading every segment's table. Names never take a second content, so a copy is
//     idempotent and resumes after any interruption.
//   - Lock: every object version is PUT with COMPLIANCE retention until the
//     latest retain-until of the snapshots that need it, and extended when
//     a snapshot's retention grows. Locks are checked with HEAD (mode and
//     retain-until headers), never GetObjectRetention, whose answer some
//     servers format in a way clients cannot read.
//   - Original version: the first version of a name, the one the copier
//     PUT. Anything written later under the name (an attacker holding the
//     same credentials can add versions and delete markers, never remove a
//     locked version) is ignored when reading back.
//
// The copier reads only what the warden has sealed (vault.Sealed) and takes
// retain-until from the sealed manifests and retention records; it runs as
// its own user, so the agent never holds the store's credentials.
package offsite
