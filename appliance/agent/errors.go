package agent

import "strings"

// Invalid is a request the agent refuses as it stands. Fields names what
// to change, by the request's JSON field names ("user", "before",
// "dest", ...); the CLI turns them into its flags, the console into its
// fields. Problem is said without either.
type Invalid struct {
	Fields  []string
	Problem string
}

func (e *Invalid) Error() string { return e.Problem }

// invalid returns an Invalid naming fields (a space-separated list).
func invalid(fields, problem string) error {
	return &Invalid{Fields: strings.Fields(fields), Problem: problem}
}
