package exchange

import "github.com/strongroom/strongroom/appliance/graph"

// immutableIDs asks Graph for IDs of Outlook items that survive a move
// within the mailbox: a message keeps its ID when it is moved to another
// folder, which lets a backup recognise a moved message instead of
// downloading it again. Every request that names or returns item IDs must
// carry it, or the two kinds of ID would be mixed.
const immutableIDs = `IdType="ImmutableId"`

// newCaller is a Graph caller for Outlook: immutable IDs on every request,
// pageSize items per page (0: Graph's default).
func newCaller(g *graph.Client, pageSize int) *graph.Caller {
	return &graph.Caller{G: g, PageSize: pageSize, Prefer: []string{immutableIDs}}
}

// isNotFound reports a 404: the user, mailbox, folder or item is gone.
func isNotFound(err error) bool {
	st, _ := graph.ErrorOf(err)
	return st == 404 || graph.DownloadStatus(err) == 404
}

// isResync reports a delta token Graph no longer accepts: 410 Gone
// (resyncRequired) or a sync state it calls invalid.
func isResync(err error) bool {
	st, code := graph.ErrorOf(err)
	switch {
	case st == 410:
		return true
	case st == 400 && (code == "SyncStateNotFound" || code == "SyncStateInvalid" || code == "ErrorInvalidSyncStateData" || code == "resyncRequired"):
		return true
	}
	return false
}

// isUnsupported reports that Graph does not serve a query (delta on some
// collections): the caller falls back to a plain listing.
func isUnsupported(err error) bool {
	st, code := graph.ErrorOf(err)
	return st == 501 || st == 400 && (code == "ErrorInvalidRequest" || code == "BadRequest") || st == 404 && code == "UnknownError"
}
