package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/osupdate"
)

// ServeUpdates runs the update service on socket until ctx ends or the
// process gets SIGINT or SIGTERM: the console's requests to install,
// roll back and restart, each from root only (peer credentials), carried
// out on this machine's boot disk. It runs as root, apart from the agent,
// which never reaches it.
func ServeUpdates(ctx context.Context, socket string, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := listenSocket(socket, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(socket)
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	log.Info("update service running", "socket", socket)
	err = api.ServeUpdates(l, api.NewSystemUpdater(osupdate.NewSystem()), api.Operators())
	if errors.Is(err, net.ErrClosed) && ctx.Err() != nil {
		return nil
	}
	return err
}

// MarkGood confirms a trial boot once the daemon of the configuration at
// path answers (within wait), and writes what it did to out. Only an
// unhealthy trial boot is an error, so that the unit fails and the machine
// restarts into the other slot; any other failure is written to errOut
// and forgotten, since it would restart a confirmed system over and over.
func MarkGood(ctx context.Context, path string, wait time.Duration, out, errOut io.Writer) error {
	sys := osupdate.NewSystem()
	sys.Healthy = func(ctx context.Context) error { return Answering(ctx, path, wait) }
	res, err := sys.MarkGood(ctx)
	switch {
	case err != nil && !errors.Is(err, osupdate.ErrUnhealthy):
		fmt.Fprintln(errOut, "mark-good:", err)
		return nil
	case err != nil:
		return err
	}
	fmt.Fprintln(out, res.Message)
	return nil
}
