package workloads

import "fmt"

// WithCollision returns o with its collision policy checked: skip when
// none is given, an error naming the choices for an unknown one.
func (o RestoreOptions) WithCollision() (RestoreOptions, error) {
	switch o.Collision {
	case "":
		o.Collision = CollisionSkip
	case CollisionSkip, CollisionCopy, CollisionReplace:
	default:
		return o, fmt.Errorf("collision policy %q: use skip, copy or replace", o.Collision)
	}
	return o, nil
}
