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
// Two error kinds tell the command line how to exit: Usage for what the
// operator gave wrongly, Unhealthy for a vault found degraded or damaged
// (as against an operation that failed).
package vaultctl

// Usage marks an error in what the operator gave: no disks, no key, a
// source that is not a directory.
type Usage struct{ Err error }

func (e Usage) Error() string { return e.Err.Error() }
func (e Usage) Unwrap() error { return e.Err }

// Unhealthy marks a vault found degraded or damaged: the command did what
// it was asked, and what it found needs an operator.
type Unhealthy struct{ Err error }

func (e Unhealthy) Error() string { return e.Err.Error() }
func (e Unhealthy) Unwrap() error { return e.Err }
