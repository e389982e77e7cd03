package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

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
