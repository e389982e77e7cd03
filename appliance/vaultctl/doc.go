// Package vaultctl is what the vault and warden commands do between
// reading their flags and exiting: find the vault's disks and recovery key
// (flags, then the configuration file, then the environment), open the
// vault or the warden as the user that owns it, run the operation, and
// describe the result in the operator's words.
//
// It sits between the command line and storage: the storage packages
// return numbers and states, this package turns them into text (sizes
// through appliance/units), and the command only wires flags to it.
//
// Errors in what the operator gave are outcome.Usage; a vault found
// degraded or damaged is outcome.Degraded (as against an operation that
// failed).
package vaultctl
