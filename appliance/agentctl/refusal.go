package agentctl

import (
	"errors"
	"strings"

	"github.com/strongroom/strongroom/appliance/api"
)

// Advice is what the command line says under an error from the agent:
// the flags to check and what to do. Refused is set when the agent
// refused the request as given (a usage error).
type Advice struct {
	Check, Fix string
	Refused    bool
}

// Advise reads err for what the agent said about it; fix is the remedy
// known without the agent (a vault error's, in this process).
func Advise(err error, fix string) Advice {
	a := Advice{Fix: fix}
	var re *api.RemoteError
	if !errors.As(err, &re) {
		return a
	}
	if re.Remedy != "" {
		a.Fix = re.Remedy
	}
	if len(re.Fields) > 0 {
		a.Check, a.Refused = flagsOf(re.Fields), true
	}
	return a
}

// flagsOf names the flags that set the request fields a refusal names
// ("user", "all_versions" -> --user, --all-versions).
func flagsOf(fields []string) string {
	flags := make([]string, len(fields))
	for i, f := range fields {
		flags[i] = "--" + strings.ReplaceAll(f, "_", "-")
		if f == "paths" {
			flags[i] = "--item"
		}
	}
	return strings.Join(flags, ", ")
}
