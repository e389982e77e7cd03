// Package offsitectl is what the offsite commands do: one copy of the
// vault to its S3 Object Lock bucket (sync), a check of it (verify), the
// service's loop (run), the published status, and disaster recovery from
// the bucket (vault recover --from-offsite): list restore points, restore
// items straight from the bucket, or rebuild the vault on new disks.
//
// The copier runs as its own user (strongroom-offsite.service): it reads
// the bucket's secret key file, which the agent cannot, and what the warden
// has sealed on the disks, and publishes its status for the agent's metrics
// and report.
package offsitectl
