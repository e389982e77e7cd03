// Package osupdate installs a new appliance image into the slot the
// running system did not boot from, and manages which slot boots next.
//
// The boot disk has two root slots (partitions sr-root-a/sr-verity-a and
// sr-root-b/sr-verity-b) and an EFI system partition with systemd-boot. Each
// slot has one unified kernel image in EFI/Linux on the ESP, named
// strongroom-<slot>.efi. systemd-boot boots the newest entry that still has
// tries left. A freshly written slot's entry carries a boot counter
// (strongroom-b+3.efi): systemd-boot counts every attempt down, and only
// MarkGood, run once the booted system is healthy, removes the counter. A
// slot that fails to come up three times is sorted behind the other slot,
// which then boots again: the fallback needs nobody at the console.
//
// An update is a bundle (see Pack): a tar holding a signed manifest, the
// root file system (squashfs), its dm-verity hash tree and the two slots'
// kernel images. Apply checks the signature against the certificate in the
// running (verity-protected) root, writes the other slot, reads it back and
// recomputes the dm-verity root hash, checks that the kernel image names
// that slot and that root hash, and only then writes the boot entry. Until
// that last step the new slot has no entry, so an interrupted or failed
// update never changes what boots.
//
// The package is used by `strongroom update` and the console; both run as
// root. The network-facing agent never calls it.
package osupdate
