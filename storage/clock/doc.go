// Package clock is Strongroom's trusted compliance clock, and the only
// package in the project that reads the wall clock.
//
// Retention and legal-hold decisions must not be fooled by someone who
// changes the system time. This package therefore never hands out the raw
// wall time; it hands out a trusted time derived from it.
//
// Words used in this package:
//
//   - Wall time: the operating system's real-time clock as returned by a
//     [Source]. It can be set backwards or forwards by anyone with enough
//     privilege, by a broken RTC battery or by a misconfigured NTP server.
//   - Trusted time: the value returned by [Clock.Now]. It never goes
//     backwards, and it only follows the wall time while the wall time
//     moves forward in small steps.
//   - State file: a small JSON file that records the last trusted time and
//     whether a jump is pending. It is replaced atomically (temporary file,
//     fsync, rename, fsync of the directory) so a crash leaves either the
//     old or the new content, never a mixture.
//   - Forward jump: the wall time running ahead of the last trusted time by
//     more than the maximum forward jump (24 hours unless configured with
//     [MaxForwardJump]).
//   - Jump pending: the state entered after a forward jump. The trusted time
//     stops advancing, [Clock.ExpiryAllowed] reports false, and the state
//     survives restarts until an operator calls [Clock.Confirm].
//   - Confirm: the operator's statement that the current wall time is
//     correct. It makes the current wall time the trusted time and ends the
//     jump pending state.
//
// A backwards jump of the wall time is never an error: the trusted time
// simply waits at its last value until the wall time catches up, so a
// backwards jump can never make anything expire sooner or later than it
// would have.
package clock
