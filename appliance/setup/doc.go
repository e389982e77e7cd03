// Package setup holds the operations the console's first-boot wizard
// performs on the appliance: reading the network state and writing a
// systemd-networkd file, listing candidate data disks, previewing and
// initialising the vault, testing the tenant's sign-in and permissions, and
// committing the configuration.
//
// Words used here:
//
//   - Backend: the interface the wizard drives. System is the real one;
//     the console's tests use a fake.
//   - Plan: everything the operator chose, held in memory until Commit.
//   - Commit: the only step that writes configuration. The vault is
//     initialised just before it, at the operator's final confirmation;
//     Commit then writes the recovery key file, the network file, and last
//     the configuration file. The configuration file is the commit point:
//     while it does not exist the console starts the wizard again.
//
// Nothing in this package prints or logs a secret; the recovery key and the
// client secret travel only in return values and the files Commit writes.
package setup
