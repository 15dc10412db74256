package testbed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddavserver"
	"github.com/contactsync/contactsync/adapters/vcard"
)

// backend is the address book the devices sync with, on the embedded server or another one.
type backend struct {
	name               string
	root               string // the server's root URL (scheme and host)
	ab                 string // the address book's absolute URL
	abPath             string
	username, password string
	// direct talks to the server without the fault proxy; the oracle reads through it.
	direct *carddav.Client
	// embedded is the in-process server, nil for another one.
	embedded *carddavserver.Server
	stop     func() error
}

const embeddedUser = "testbed"

// startEmbedded runs the embedded server on a loopback port, its data in dir.
func startEmbedded(ctx context.Context, dir string) (*backend, error) {
	// The lowest PBKDF2 cost is enough for a throwaway account on loopback; it keeps logins instant. Every device
	// reaches the server through the fault proxy, so from one address: no per-client connection limit.
	srv, err := carddavserver.Open(filepath.Join(dir, "server"), carddavserver.WithPasswordIterations(carddavserver.MinPasswordIterations),
		carddavserver.WithMaxConnsPerClient(0))
	if err != nil {
		return nil, fmt.Errorf("testbed: embedded server: %w", err)
	}
	password, err := randomPassword()
	if err == nil {
		err = srv.AddUser(ctx, embeddedUser, password)
	}
	var l net.Listener
	if err == nil {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("testbed: embedded server: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	var serveErr error
	go func() {
		defer wg.Done()
		serveErr = srv.ServeListener(sctx, l)
	}()
	stop := func() error {
		cancel()
		wg.Wait()
		return errors.Join(serveErr, srv.Close())
	}
	root := "http://" + l.Addr().String()
	b := &backend{
		name: "embedded", root: root, ab: root + "/addressbooks/" + embeddedUser + "/" + carddavserver.DefaultBook + "/",
		username: embeddedUser, password: password, embedded: srv, stop: stop,
	}
	if err := b.connect(); err != nil {
		stop()
		return nil, err
	}
	return b, nil
}

// openExternal creates a scratch address book on another server; stop deletes it.
func openExternal(ctx context.Context, server, username, password string, seed uint64) (*backend, error) {
	var opts []carddav.Option
	if username != "" {
		opts = append(opts, carddav.WithBasicAuth(username, password))
	}
	c, err := carddav.New(server, opts...)
	if err != nil {
		return nil, fmt.Errorf("testbed: server: %w", err)
	}
	d, err := c.Discover(ctx)
	if err != nil {
		return nil, fmt.Errorf("testbed: discovery at %s: %w", server, err)
	}
	if len(d.HomeSets) == 0 {
		return nil, fmt.Errorf("testbed: %s names no address-book home where the test bed could create its own address book", server)
	}
	home := d.HomeSets[0]
	if len(home) == 0 || home[len(home)-1] != '/' {
		home += "/"
	}
	path := fmt.Sprintf("%stestbed-s%d-%d/", home, seed, time.Now().UnixNano())
	ab, err := c.CreateAddressBook(ctx, path, fmt.Sprintf("contactsync test bed, seed %d", seed), "")
	if err != nil {
		return nil, fmt.Errorf("testbed: create a scratch address book at %s: %w", path, err)
	}
	u, err := url.Parse(ab.URL)
	if err != nil {
		return nil, fmt.Errorf("testbed: address book URL: %w", err)
	}
	b := &backend{name: server, root: u.Scheme + "://" + u.Host, ab: ab.URL, username: username, password: password}
	b.stop = func() error {
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return c.DeleteAddressBook(dctx, ab.URL)
	}
	if err := b.connect(); err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

func (b *backend) connect() error {
	u, err := url.Parse(b.ab)
	if err != nil {
		return fmt.Errorf("testbed: address book URL: %w", err)
	}
	b.abPath = u.EscapedPath()
	var opts []carddav.Option
	if b.username != "" {
		opts = append(opts, carddav.WithBasicAuth(b.username, b.password))
	}
	if b.direct, err = carddav.New(b.ab, opts...); err != nil {
		return fmt.Errorf("testbed: client: %w", err)
	}
	return nil
}

func randomPassword() (string, error) {
	buf := make([]byte, 16)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(buf), nil
}

// fill puts the initial contacts on the server.
func (b *backend) fill(ctx context.Context, cards [][]byte) error {
	if b.embedded != nil {
		if _, err := b.embedded.Import(ctx, embeddedUser, carddavserver.DefaultBook, cards); err != nil {
			return fmt.Errorf("testbed: fill the server: %w", err)
		}
		return nil
	}
	const workers = 4
	jobs := make(chan []byte)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for data := range jobs {
				cs, err := vcard.Parse(data)
				if err == nil {
					_, err = b.direct.Put(ctx, carddav.HrefForUID(b.abPath, cs[0].UID()), data, carddav.CreateOnly())
				}
				if err != nil {
					errs <- fmt.Errorf("testbed: fill the server: %w", err)
					return
				}
			}
		}()
	}
	var err error
feed:
	for _, c := range cards {
		select {
		case jobs <- c:
		case err = <-errs:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

// snapshot reads every member of the address book, straight from the server.
func (b *backend) snapshot(ctx context.Context) (*state, []Problem, error) {
	var hrefs []string
	var problems []Problem
	token := ""
	for {
		page, err := b.direct.SyncCollection(ctx, b.ab, token, 0)
		if errors.Is(err, carddav.ErrNotSupported) {
			listing, lerr := b.direct.ListETags(ctx, b.ab)
			if lerr != nil {
				return nil, nil, fmt.Errorf("testbed: list the server: %w", lerr)
			}
			for _, m := range listing.Members {
				hrefs = append(hrefs, m.Href)
			}
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("testbed: list the server: %w", err)
		}
		for _, m := range page.Changed {
			hrefs = append(hrefs, m.Href)
		}
		for _, r := range page.Rejected {
			problems = append(problems, Problem{Check: "unreadable", Device: "server", Detail: fmt.Sprintf("listing entry %s: %v", r.Href, r.Err)})
		}
		if !page.More {
			break
		}
		token = page.Token
	}
	objs, err := b.direct.MultiGet(ctx, b.ab, hrefs)
	if err != nil {
		return nil, nil, fmt.Errorf("testbed: fetch the server's contacts: %w", err)
	}
	st := newState("server")
	for _, o := range objs {
		if errors.Is(o.Err, carddav.ErrNotFound) {
			continue // deleted since the listing
		}
		if o.Err != nil {
			problems = append(problems, Problem{Check: "unreadable", Device: "server", Detail: fmt.Sprintf("%s: %v", o.Href, o.Err)})
			continue
		}
		cards, err := vcard.Parse(o.Data)
		if err != nil || len(cards) != 1 || cards[0].UID() == "" {
			problems = append(problems, Problem{Check: "unreadable", Device: "server", Detail: fmt.Sprintf("%s is not one vCard with a UID: %v", o.Href, err)})
			continue
		}
		uid := cards[0].UID()
		st.hrefs[uid] = append(st.hrefs[uid], o.Href)
		st.cards[uid] = cards[0]
	}
	return st, problems, nil
}
