package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"

	"golang.org/x/sys/unix"
)

// Access is what a call does: reads state or operates on data.
type Access int

const (
	// Read calls only report: status, snapshots, list, find, report.
	Read Access = iota
	// Operate calls back up, restore, export, delete or change the vault
	// and its retention.
	Operate
)

// access is what each method needs; a method not named here operates.
var access = map[string]Access{
	"status": Read, "snapshots": Read, "list": Read, "find": Read, "report": Read,
}

// Caller is the process at the other end of the socket, from the kernel
// (SO_PEERCRED): it cannot be forged by what the caller sends.
type Caller struct {
	UID, GID, PID int
	Known         bool // false when the connection carries no credentials
}

// Policy decides whether caller may make a call that needs access.
type Policy func(caller Caller, need Access) error

// Operators is the agent socket's policy: anyone who can open the socket
// (its mode and group decide who can) may read; only root and the given
// user ids (the agent's own) may operate.
func Operators(uids ...int) Policy {
	return func(c Caller, need Access) error {
		if need == Read {
			return nil
		}
		if c.Known && (c.UID == 0 || slices.Contains(uids, c.UID)) {
			return nil
		}
		who := "a caller without credentials"
		if c.Known {
			who = fmt.Sprintf("user id %d", c.UID)
		}
		return fmt.Errorf("%s may only read from the agent's socket: run this as root or as the agent's user", who)
	}
}

type callerKey struct{}

// CallerOf returns the caller a request's connection came from.
func CallerOf(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

// withCaller records the peer credentials of a unix socket connection in
// its context, for http.Server.ConnContext.
func withCaller(ctx context.Context, conn net.Conn) context.Context {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return ctx
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return ctx
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) { cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil || credErr != nil {
		return ctx
	}
	return context.WithValue(ctx, callerKey{}, Caller{UID: int(cred.Uid), GID: int(cred.Gid), PID: int(cred.Pid), Known: true})
}

// Serve answers API calls on l with s, each allowed by p, until l closes.
func Serve(l net.Listener, s Service, p Policy) error {
	srv := &http.Server{Handler: Handler(s, p), ConnContext: withCaller}
	return srv.Serve(l)
}
