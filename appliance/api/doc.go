// Package api is the one door to the agent: the CLI and the console call
// it, over the agent daemon's unix socket (Remote) or, in tests, the demo
// and a CLI run while no daemon runs, on an agent in the same process
// (Local). Both satisfy Service.
//
// The package owns its wire types (wire.go, vocabulary.go): the agent's
// own types never travel. The protocol is version 1: every call is
// POST /v1/<method> with the arguments as a JSON object, answered with the
// result as JSON, or with status 422 and {"error", "remedy"}, or 403 when
// the caller may not make that call (see Policy). Within a version, fields
// are only ever added; a client ignores fields it does not know.
package api
