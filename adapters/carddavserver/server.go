package carddavserver

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/contactsync/contactsync/adapters/internal/uidhref"
	"github.com/contactsync/contactsync/adapters/vcard"
)

// DefaultBook is the address book every new user gets: /addressbooks/USER/contacts/.
const DefaultBook = "contacts"

// Server is the CardDAV server: the data directory it owns and the HTTP handler that serves it. It is safe
// for concurrent use.
type Server struct {
	dir  string
	cfg  config
	acc  *accounts
	auth *authenticator

	mu    sync.Mutex
	books map[string]*book // open address books by id
	// dropped holds the ids of books deleted by this process, so a request that looked a book up just before
	// its deletion cannot open (and so create) its file again.
	dropped map[string]bool
	closed  bool

	stop    context.CancelFunc
	janitor sync.WaitGroup
}

// Open opens the server's data directory dir, creating it if needed: accounts.db holds the users and the list
// of address books, books/ID.db each address book. Close it when done.
func Open(dir string, opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("carddavserver: open %s: %w", dir, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "books"), 0o700); err != nil {
		return nil, fmt.Errorf("carddavserver: open %s: %w", dir, err)
	}
	ctx := context.Background()
	acc, err := openAccounts(ctx, filepath.Join(dir, "accounts.db"))
	if err != nil {
		return nil, fmt.Errorf("carddavserver: open %s: %w", dir, err)
	}
	auth, err := newAuthenticator(cfg)
	if err != nil {
		acc.close()
		return nil, fmt.Errorf("carddavserver: open %s: %w", dir, err)
	}
	s := &Server{dir: dir, cfg: cfg, acc: acc, auth: auth, books: map[string]*book{}, dropped: map[string]bool{}}
	if err := s.sweep(ctx); err != nil {
		acc.close()
		return nil, fmt.Errorf("carddavserver: open %s: %w", dir, err)
	}
	jctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	if cfg.trimInterval > 0 {
		s.janitor.Go(func() { s.trimLoop(jctx) })
	}
	return s, nil
}

// sweep deletes the files of address books that no longer exist: a crash between deleting a book's row and
// its file, or a book deleted by another process, leaves one behind.
func (s *Server) sweep(ctx context.Context) error {
	ids, err := s.acc.bookIDs(ctx)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(filepath.Join(s.dir, "books"))
	if err != nil {
		return err
	}
	for _, e := range entries {
		id, _, _ := strings.Cut(e.Name(), ".")
		if !ids[id] {
			if err := os.Remove(filepath.Join(s.dir, "books", e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// Close stops the periodic trim and closes every database. Requests still being served then fail with 503;
// ServeListener's graceful shutdown lets them finish first.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	books := s.books
	s.books = nil
	s.mu.Unlock()
	s.stop()
	s.janitor.Wait()
	var errs []error
	for _, b := range books {
		errs = append(errs, b.close())
	}
	errs = append(errs, s.acc.close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("carddavserver: close: %w", err)
	}
	return nil
}

// live fails with ErrClosed once Close has begun.
func (s *Server) live() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

// Handler returns the HTTP handler that serves the CardDAV tree. It bounds how long a request body may stall
// and how long writing a response may (WithBodyIdleTimeout, WithWriteIdleTimeout), through the deadlines
// of http.ResponseController, and closes the connection after answering a request whose body it did not read
// (a refused login, a failed precondition). Mounted under another server, the connection limits and header
// timeouts of ServeListener are that server's to set.
func (s *Server) Handler() http.Handler { return &handler{s: s} }

// ServeListener serves HTTP on l until ctx ends, then shuts down gracefully: it stops accepting, waits up to
// the shutdown timeout for requests in flight, then closes what is left. It returns nil after a shutdown
// that ctx asked for. It does not close the Server.
//
// Beyond what Handler bounds, it bounds the time a request's headers take, their size, the idle time of a
// kept-alive connection, and the connections open at once, per client and in all (see the With options).
func (s *Server) ServeListener(ctx context.Context, l net.Listener) error {
	lim := newConnLimiter(s.cfg.maxConnsPerClient, s.cfg.maxConns, s.cfg.logger)
	hs := &http.Server{
		Handler: s.Handler(),
		// No ReadTimeout or WriteTimeout: they bound a whole request or response, which a large vCard or a
		// long listing over a slow link may rightly exceed. Handler bounds each stall instead.
		ReadHeaderTimeout: s.cfg.readHeaderTimeout,
		IdleTimeout:       s.cfg.idleTimeout,
		MaxHeaderBytes:    s.cfg.maxHeaderBytes,
		ConnState:         lim.connState,
		ErrorLog:          slog.NewLogLogger(s.cfg.logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(&limitListener{Listener: l, lim: lim}) }()
	select {
	case err := <-served:
		return fmt.Errorf("carddavserver: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.shutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		err = errors.Join(err, hs.Close())
	}
	<-served
	if err != nil {
		return fmt.Errorf("carddavserver: shutdown: %w", err)
	}
	return nil
}

// AddUser creates a user with a password (hashed with PBKDF2-SHA256) and the default address book.
func (s *Server) AddUser(ctx context.Context, name, password string) error {
	if err := s.live(); err != nil {
		return fmt.Errorf("carddavserver: %w", err)
	}
	hash, err := s.newHash(name, password)
	if err != nil {
		return fmt.Errorf("carddavserver: add user: %w", err)
	}
	id, err := s.newBookID()
	if err != nil {
		return fmt.Errorf("carddavserver: add user: %w", err)
	}
	b := bookInfo{owner: name, name: DefaultBook, id: id, displayName: "Contacts"}
	if err := s.acc.addUser(ctx, name, hash, s.cfg.clock().UnixNano(), b); err != nil {
		return fmt.Errorf("carddavserver: add user %s: %w", name, err)
	}
	return nil
}

// SetPassword replaces a user's password. Logins cached with the old one stop working at once.
func (s *Server) SetPassword(ctx context.Context, name, password string) error {
	if err := s.live(); err != nil {
		return fmt.Errorf("carddavserver: %w", err)
	}
	hash, err := s.newHash(name, password)
	if err != nil {
		return fmt.Errorf("carddavserver: set password: %w", err)
	}
	if err := s.acc.setPassword(ctx, name, hash); err != nil {
		return fmt.Errorf("carddavserver: set password of %s: %w", name, err)
	}
	s.auth.forget()
	return nil
}

func (s *Server) newHash(name, password string) (string, error) {
	if err := ValidUserName(name); err != nil {
		return "", err
	}
	if password == "" {
		return "", ErrEmptyPassword
	}
	return hashPassword(password, s.cfg.passwordIterations, s.cfg.rand)
}

// RemoveUser deletes a user and all of the user's address books.
func (s *Server) RemoveUser(ctx context.Context, name string) error {
	if err := s.live(); err != nil {
		return fmt.Errorf("carddavserver: %w", err)
	}
	ids, err := s.acc.removeUser(ctx, name)
	if err != nil {
		return fmt.Errorf("carddavserver: remove user %s: %w", name, err)
	}
	s.auth.forget()
	var errs []error
	for _, id := range ids {
		errs = append(errs, s.dropBook(id))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("carddavserver: remove user %s: %w", name, err)
	}
	return nil
}

// Users lists the user names in order.
func (s *Server) Users(ctx context.Context) ([]string, error) {
	if err := s.live(); err != nil {
		return nil, fmt.Errorf("carddavserver: %w", err)
	}
	u, err := s.acc.users(ctx)
	if err != nil {
		return nil, fmt.Errorf("carddavserver: users: %w", err)
	}
	return u, nil
}

// CreateAddressBook makes a new address book for user (what an extended MKCOL does).
func (s *Server) CreateAddressBook(ctx context.Context, user, name, displayName, description string) error {
	if err := s.live(); err != nil {
		return fmt.Errorf("carddavserver: %w", err)
	}
	if err := validSegment("address book", name, maxBookName); err != nil {
		return fmt.Errorf("carddavserver: create address book: %w", err)
	}
	id, err := s.newBookID()
	if err != nil {
		return fmt.Errorf("carddavserver: create address book: %w", err)
	}
	b := bookInfo{owner: user, name: name, id: id, displayName: displayName, description: description}
	if err := s.acc.createBook(ctx, b, s.cfg.clock().UnixNano()); err != nil {
		if isConstraint(err) {
			err = fmt.Errorf("%w: %s", ErrNoUser, user)
		}
		return fmt.Errorf("carddavserver: create address book %s/%s: %w", user, name, err)
	}
	return nil
}

// DeleteAddressBook deletes an address book and its contacts.
func (s *Server) DeleteAddressBook(ctx context.Context, user, name string) error {
	if err := s.live(); err != nil {
		return fmt.Errorf("carddavserver: %w", err)
	}
	info, err := s.acc.book(ctx, user, name)
	if err == nil {
		err = s.acc.deleteBook(ctx, user, name)
	}
	if err == nil {
		err = s.dropBook(info.id)
	}
	if err != nil {
		return fmt.Errorf("carddavserver: delete address book %s/%s: %w", user, name, err)
	}
	return nil
}

// newBookID draws a book's identity: 16 random bytes in hex.
func (s *Server) newBookID() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.cfg.rand, b); err != nil {
		return "", fmt.Errorf("book id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// importBatch is how many vCards Import stores per transaction.
const importBatch = 1000

// Import stores vCards as new resources of a user's address book, each named after its UID the way the
// project's client names new contacts (adapters/internal/uidhref), a batch per transaction: the fast way to fill a
// server for a benchmark or a test bed. Each vCard is checked as a PUT would check it; a name or UID that is
// taken fails its batch. It returns how many were stored.
func (s *Server) Import(ctx context.Context, user, bookName string, vcards [][]byte) (int, error) {
	if err := s.live(); err != nil {
		return 0, fmt.Errorf("carddavserver: %w", err)
	}
	b, err := s.bookByName(ctx, user, bookName)
	if err != nil {
		return 0, fmt.Errorf("carddavserver: import: %w", err)
	}
	done := 0
	for start := 0; start < len(vcards); start += importBatch {
		batch := make([]importCard, 0, importBatch)
		for i, data := range vcards[start:min(start+importBatch, len(vcards))] {
			uid, err := s.checkVCard(data)
			if err != nil {
				return done, fmt.Errorf("carddavserver: import: vCard %d: %w", start+i, err)
			}
			batch = append(batch, importCard{name: uidhref.Name(uid), uid: uid, body: data})
		}
		if err := b.load(ctx, batch); err != nil {
			return done, fmt.Errorf("carddavserver: import: %w", err)
		}
		done += len(batch)
	}
	return done, nil
}

// checkVCard enforces CARDDAV:valid-address-data (RFC 6352 section 6.3.2.1) and returns the UID: exactly one
// vCard that the lossless parser reads without error, with a UID, in UTF-8, without control characters that
// an address-data element of XML could not carry. The size limit is checked by the caller.
func (s *Server) checkVCard(data []byte) (string, error) {
	if err := xmlSafe(data); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidVCard, err)
	}
	cards, err := vcard.Parse(data)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidVCard, err)
	}
	if len(cards) != 1 {
		return "", fmt.Errorf("%w: %d vCards, want exactly one", ErrInvalidVCard, len(cards))
	}
	uid := cards[0].UID()
	if strings.TrimSpace(uid) == "" {
		return "", fmt.Errorf("%w: no UID (RFC 6352 section 5.1 requires one)", ErrInvalidVCard)
	}
	return uid, nil
}

// Trim drops the history of every open address book that the retention policy lets go; sync tokens older
// than what is kept then get 403 valid-sync-token. The server also does this periodically (WithTrimInterval)
// and when it opens an address book.
func (s *Server) Trim(ctx context.Context) error {
	if err := s.live(); err != nil {
		return fmt.Errorf("carddavserver: %w", err)
	}
	s.mu.Lock()
	books := make([]*book, 0, len(s.books))
	for _, b := range s.books {
		books = append(books, b)
	}
	s.mu.Unlock()
	var errs []error
	for _, b := range books {
		if err := b.trim(ctx); err != nil {
			errs = append(errs, fmt.Errorf("book %s: %w", b.id, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("carddavserver: trim: %w", err)
	}
	return nil
}

func (s *Server) trimLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.trimInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Trim(ctx); err != nil && ctx.Err() == nil {
				s.cfg.logger.Error("carddavserver: periodic trim", "err", err)
			}
		}
	}
}

// bookByName opens the address book name of user.
func (s *Server) bookByName(ctx context.Context, user, name string) (*book, error) {
	info, err := s.acc.book(ctx, user, name)
	if err != nil {
		return nil, err
	}
	return s.book(ctx, info)
}

// book returns the open address book, opening (and trimming) it on first use.
func (s *Server) book(ctx context.Context, info bookInfo) (*book, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if b := s.books[info.id]; b != nil {
		return b, nil
	}
	if s.dropped[info.id] {
		return nil, fmt.Errorf("%w: %s/%s", ErrNoAddressBook, info.owner, info.name)
	}
	b, err := openBook(ctx, s.bookFile(info.id), info.id, bookHref(info.owner, info.name), s.cfg)
	if err != nil {
		return nil, fmt.Errorf("open address book %s/%s: %w", info.owner, info.name, err)
	}
	if err := b.trim(ctx); err != nil {
		b.close()
		return nil, fmt.Errorf("trim address book %s/%s: %w", info.owner, info.name, err)
	}
	s.books[info.id] = b
	return b, nil
}

func (s *Server) bookFile(id string) string { return filepath.Join(s.dir, "books", id+".db") }

// dropBook closes a deleted address book, if open, and removes its files.
func (s *Server) dropBook(id string) error {
	s.mu.Lock()
	b := s.books[id]
	delete(s.books, id)
	s.dropped[id] = true
	s.mu.Unlock()
	var errs []error
	if b != nil {
		errs = append(errs, b.close())
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(s.bookFile(id) + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
