package setup

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/strongroom/strongroom/appliance/units"
)

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ValidateTenant checks the form of the connection details before any
// sign-in is tried.
func ValidateTenant(t Tenant) error {
	if !guid.MatchString(strings.TrimSpace(t.TenantID)) {
		return errors.New("tenant id must be a GUID like 00000000-0000-0000-0000-000000000000 (Entra admin center, Overview, Tenant ID)")
	}
	if !guid.MatchString(strings.TrimSpace(t.ClientID)) {
		return errors.New("client id must be a GUID (App registrations, the backup app, Application (client) ID)")
	}
	if strings.TrimSpace(t.ClientSecret) == "" {
		return errors.New("client secret is empty (App registrations, the backup app, Certificates & secrets)")
	}
	return nil
}

// Windows is the schedule and retention the operator chose.
type Windows struct {
	Interval, Rollback, Audit time.Duration
}

// ParseWindows reads the schedule and retention fields ("4h", "30d",
// "7y") and checks they make sense together.
func ParseWindows(interval, rollback, audit string) (Windows, error) {
	var w Windows
	var err error
	if w.Interval, err = units.ParseDuration(interval); err != nil {
		return w, fmt.Errorf("backup interval: %w", err)
	}
	if w.Interval < time.Minute {
		return w, errors.New("backup interval must be at least 1m")
	}
	if w.Rollback, err = units.ParseDuration(rollback); err != nil {
		return w, fmt.Errorf("rollback window: %w", err)
	}
	if w.Rollback < 24*time.Hour {
		return w, errors.New("rollback window must be at least 1d")
	}
	if w.Audit, err = units.ParseDuration(audit); err != nil {
		return w, fmt.Errorf("audit window: %w", err)
	}
	if w.Audit < w.Rollback {
		return w, errors.New("audit window must be at least as long as the rollback window")
	}
	return w, nil
}

// Validate checks the plan is complete.
func (p Plan) Validate() error {
	switch {
	case p.ConfigPath == "":
		return errors.New("plan: no configuration path")
	case p.KeyFile == "":
		return errors.New("plan: no key file path")
	case len(p.Disks) == 0:
		return errors.New("plan: no disks chosen")
	}
	if err := ValidateTenant(p.Tenant); err != nil {
		return err
	}
	if p.Offsite != nil {
		if err := ValidateOffsite(*p.Offsite); err != nil {
			return err
		}
	}
	if p.Network != nil {
		if err := p.Network.Validate(); err != nil {
			return err
		}
	}
	return nil
}
