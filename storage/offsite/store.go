package offsite

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// ErrBucketNotLocked is returned by Check for a bucket without versioning
// or without Object Lock.
var ErrBucketNotLocked = errors.New("bucket has no Object Lock")

// ErrLockNotKept is returned when a HEAD after a PUT or an extension does
// not show a COMPLIANCE lock until the time asked for.
var ErrLockNotKept = errors.New("the store did not keep the lock")

// Store is one bucket of an S3 server, reached with minio-go. It is safe
// for concurrent use.
type Store struct {
	c      *minio.Client
	bucket string
	prefix string
	limit  *limiter
}

// Open makes a client for the configured store; it does not talk to it
// yet (Check does). now is the clock the bandwidth limit is paced by.
func Open(cfg Config, now func() time.Time) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, secure, _ := cfg.endpoint()
	tr, err := transport(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	if len(cfg.Addrs) > 0 {
		pd, err := newPinnedDialer(hostOnly(host), cfg.Addrs)
		if err != nil {
			return nil, err
		}
		tr.DialContext = pd.DialContext
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(host, &minio.Options{
		Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: secure,
		Transport: tr, Region: cfg.Region, BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("offsite store %s: %w", cfg.Endpoint, err)
	}
	return &Store{c: c, bucket: cfg.Bucket, prefix: cfg.prefix(), limit: newLimiter(cfg.BandwidthBytes, now, time.Sleep)}, nil
}

func transport(caFile string) (*http.Transport, error) {
	tr, err := minio.DefaultTransport(true)
	if err != nil {
		return nil, err
	}
	if caFile == "" {
		return tr, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("offsite ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("offsite ca_file %s holds no PEM certificate: give the CA that signed the store's certificate", caFile)
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return tr, nil
}

// Bucket is the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

// Check refuses a bucket that is missing, or lacks versioning or Object
// Lock, saying how to set it up.
func (s *Store) Check(ctx context.Context) error {
	vc, err := s.c.GetBucketVersioning(ctx, s.bucket)
	if err != nil {
		return s.explain("read the versioning of", err)
	}
	lock, _, _, _, err := s.c.GetObjectLockConfig(ctx, s.bucket)
	if err != nil && minio.ToErrorResponse(err).Code != "ObjectLockConfigurationNotFoundError" {
		return s.explain("read the Object Lock configuration of", err)
	}
	if !vc.Enabled() || lock != "Enabled" {
		return fmt.Errorf("%w: bucket %s has versioning %q and Object Lock %q; the copy needs both enabled. "+
			"Object Lock can only be turned on when a bucket is created: create a new one with it "+
			"(AWS: 'aws s3api create-bucket --bucket NAME --object-lock-enabled-for-bucket'; MinIO: 'mc mb --with-lock ALIAS/NAME'; "+
			"Ceph RGW and versitygw: CreateBucket with x-amz-bucket-object-lock-enabled: true) and name it in offsite.bucket",
			ErrBucketNotLocked, s.bucket, orNone(vc.Status), orNone(lock))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "off"
	}
	return s
}

// explain turns a store error into one naming what to check.
func (s *Store) explain(what string, err error) error {
	r := minio.ToErrorResponse(err)
	switch {
	case r.Code == "NoSuchBucket":
		return fmt.Errorf("offsite bucket %s does not exist: create it with Object Lock enabled, or fix offsite.bucket", s.bucket)
	case r.Code == "AccessDenied" || r.Code == "InvalidAccessKeyId" || r.Code == "SignatureDoesNotMatch":
		return fmt.Errorf("offsite store refused the credentials to %s bucket %s (%s): check offsite.access_key and the secret key file", what, s.bucket, r.Code)
	case r.StatusCode == 0:
		return fmt.Errorf("offsite store unreachable to %s bucket %s: %w (check offsite.endpoint, the network path and, for a private CA, offsite.ca_file)", what, s.bucket, err)
	}
	return fmt.Errorf("offsite: %s bucket %s: %w", what, s.bucket, err)
}

// Lock is what a HEAD says of one object version.
type Lock struct {
	VersionID string
	Size      int64
	Mode      string    // "COMPLIANCE", "GOVERNANCE" or ""
	Until     time.Time // retain-until, zero when none
	Meta      map[string]string
}

// Covers reports whether the lock is COMPLIANCE until at least t.
func (l Lock) Covers(t time.Time) bool {
	return l.Mode == string(minio.Compliance) && !l.Until.Before(t.Truncate(time.Second))
}

// Head reads an object version's lock with HEAD.
func (s *Store) Head(ctx context.Context, name, versionID string) (Lock, error) {
	info, err := s.c.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{VersionID: versionID})
	if err != nil {
		return Lock{}, s.explain("HEAD "+name+" in", err)
	}
	l := Lock{VersionID: info.VersionID, Size: info.Size, Mode: info.Metadata.Get("X-Amz-Object-Lock-Mode"), Meta: info.UserMetadata}
	if u := info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date"); u != "" {
		if l.Until, err = time.Parse(time.RFC3339, u); err != nil {
			return l, fmt.Errorf("offsite: HEAD %s: retain-until %q: %w", name, u, err)
		}
	}
	return l, nil
}

// partSize is the size of a multipart upload's parts; larger objects go up
// as several parts, 4 at a time.
const partSize = 16 << 20

// Put uploads an object under COMPLIANCE retention until until, paced by
// the bandwidth limit, and checks the lock with HEAD. r is read through
// ReadAt, so large objects go up as parallel multipart parts.
func (s *Store) Put(ctx context.Context, name string, r io.ReaderAt, size int64, until time.Time, meta map[string]string) (Lock, error) {
	until = ceilSecond(until)
	if size > partSize {
		// A copier killed in the middle of a multipart upload leaves its
		// parts behind; they are taken away before the name is sent again.
		s.c.RemoveIncompleteUpload(ctx, s.bucket, name)
	}
	body := io.NewSectionReader(pacedReaderAt{r: r, limit: s.limit}, 0, size)
	info, err := s.c.PutObject(ctx, s.bucket, name, body, size, minio.PutObjectOptions{
		Mode: minio.Compliance, RetainUntilDate: until, UserMetadata: meta,
		PartSize: partSize, NumThreads: 4, ContentType: "application/octet-stream",
	})
	if err != nil {
		return Lock{}, s.explain("PUT "+name+" into", err)
	}
	return s.verify(ctx, name, info.VersionID, until)
}

// Extend raises a version's COMPLIANCE retain-until and checks it with HEAD.
func (s *Store) Extend(ctx context.Context, name, versionID string, until time.Time) (Lock, error) {
	until = ceilSecond(until)
	mode := minio.Compliance
	if err := s.c.PutObjectRetention(ctx, s.bucket, name, minio.PutObjectRetentionOptions{Mode: &mode, RetainUntilDate: &until, VersionID: versionID}); err != nil {
		return Lock{}, s.explain("extend the lock of "+name+" in", err)
	}
	return s.verify(ctx, name, versionID, until)
}

func (s *Store) verify(ctx context.Context, name, versionID string, until time.Time) (Lock, error) {
	l, err := s.Head(ctx, name, versionID)
	if err != nil {
		return l, err
	}
	if !l.Covers(until) {
		return l, fmt.Errorf("%w: %s version %s shows lock %q until %s, asked COMPLIANCE until %s: the store does not enforce Object Lock; use one that does",
			ErrLockNotKept, name, versionID, l.Mode, l.Until.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	return l, nil
}

func ceilSecond(t time.Time) time.Time {
	if u := t.Truncate(time.Second); u.Equal(t) {
		return t.UTC()
	} else {
		return u.Add(time.Second).UTC()
	}
}

// Version is one version of a name, as a listing shows it.
type Version struct {
	ID           string
	Size         int64
	DeleteMarker bool
}

// List returns the versions of every name under sub (relative to the
// store's prefix), oldest first.
func (s *Store) List(ctx context.Context, sub string) (map[string][]Version, error) {
	out := map[string][]Version{}
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + "/" + sub, Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			return nil, s.explain("list", o.Err)
		}
		// Listings give each name's versions newest first.
		out[o.Key] = append([]Version{{ID: o.VersionID, Size: o.Size, DeleteMarker: o.IsDeleteMarker}}, out[o.Key]...)
	}
	return out, nil
}

// Original is the first version of a name that holds data: the one the
// copier PUT. Later versions and delete markers are ignored.
func Original(vs []Version) (Version, bool) {
	for _, v := range vs {
		if !v.DeleteMarker {
			return v, true
		}
	}
	return Version{}, false
}

// Prefixes lists the names directly below the store's prefix (the vault
// IDs of the copies the bucket holds).
func (s *Store) Prefixes(ctx context.Context) ([]string, error) {
	var out []string
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + "/"}) {
		if o.Err != nil {
			return nil, s.explain("list", o.Err)
		}
		if strings.HasSuffix(o.Key, "/") {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(o.Key, s.prefix+"/"), "/"))
		}
	}
	sort.Strings(out)
	return out, nil
}

// ReadAt reads [off, off+len(p)) of an object version with a ranged GET.
func (s *Store) ReadAt(ctx context.Context, name, versionID string, p []byte, off int64) error {
	if len(p) == 0 {
		return nil
	}
	opts := minio.GetObjectOptions{VersionID: versionID}
	if err := opts.SetRange(off, off+int64(len(p))-1); err != nil {
		return err
	}
	o, err := s.c.GetObject(ctx, s.bucket, name, opts)
	if err != nil {
		return s.explain("read "+name+" from", err)
	}
	defer o.Close()
	if _, err := io.ReadFull(o, p); err != nil {
		return s.explain(fmt.Sprintf("read %s [%d,+%d) from", name, off, len(p)), err)
	}
	return nil
}

// Get streams a whole object version, with its user metadata.
func (s *Store) Get(ctx context.Context, name, versionID string) (io.ReadCloser, map[string]string, error) {
	o, err := s.c.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{VersionID: versionID})
	if err != nil {
		return nil, nil, s.explain("read "+name+" from", err)
	}
	info, err := o.Stat()
	if err != nil {
		o.Close()
		return nil, nil, s.explain("read "+name+" from", err)
	}
	return o, info.UserMetadata, nil
}

// Client is the underlying minio-go client (tests use it to attack the
// copy with the appliance's own credentials).
func (s *Store) Client() *minio.Client { return s.c }
