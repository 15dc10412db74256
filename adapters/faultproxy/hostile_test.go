package faultproxy_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/faultproxy"
)

// hostileRig is a Hostile in front of the embedded server, with two real contacts in the address book.
type hostileRig struct {
	*rig
	hostile *faultproxy.Hostile
	real    map[string][]byte // href → body
}

func newHostileRig(t *testing.T, copts []carddav.Option, opts ...faultproxy.Option) *hostileRig {
	t.Helper()
	tg := embedded(t)
	h, err := faultproxy.NewHostile(tg.url, tg.ab, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := faultproxy.Start(h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	via, err := carddav.New(srv.URL+"/", append(slices.Clone(tg.opts), copts...)...)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := carddav.New(tg.url, tg.opts...)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(tg.ab)
	hr := &hostileRig{rig: &rig{t: t, via: via, direct: direct, ab: u.Path}, hostile: h, real: map[string][]byte{}}
	for range 2 {
		href, body, _ := hr.stored(context.Background())
		hr.real[href] = body
	}
	return hr
}

// small keeps the client's limits below the giant bodies, so the test moves megabytes, not hundreds.
var small = []carddav.Option{carddav.WithMaxObjectSize(64 << 10), carddav.WithMaxXMLSize(1 << 20)}

func TestHostileMembers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := newHostileRig(t, small, faultproxy.WithGiantSize(2<<20))
	page, err := r.via.SyncCollection(ctx, r.ab, "", 0)
	if err != nil {
		t.Fatalf("sync-collection: %v", err)
	}
	var listed []string
	for _, m := range page.Changed {
		listed = append(listed, m.Href)
	}
	inside := []string{"hostile-malformed.vcf", "hostile-two-cards.vcf", "hostile-html.vcf", "hostile-gigantic.vcf"}
	for _, name := range inside {
		if !slices.Contains(listed, r.ab+name) {
			t.Errorf("listing lacks %s: %v", name, listed)
		}
	}
	for href := range r.real {
		if !slices.Contains(listed, href) {
			t.Errorf("listing lacks the real member %s: %v", href, listed)
		}
	}
	if len(page.Rejected) != 3 {
		t.Errorf("client rejected %d hrefs, want the 3 outside the collection: %v", len(page.Rejected), page.Rejected)
	}
	for _, rej := range page.Rejected {
		if !errors.Is(rej.Err, carddav.ErrBadHref) {
			t.Errorf("rejected %s: %v, want ErrBadHref", rej.Href, rej.Err)
		}
	}

	objs, err := r.via.MultiGet(ctx, r.ab, listed)
	if err != nil {
		t.Fatalf("multiget: %v", err)
	}
	byHref := map[string]carddav.Object{}
	for _, o := range objs {
		byHref[o.Href] = o
	}
	for href, body := range r.real {
		if o := byHref[href]; o.Err != nil || !bytes.Equal(o.Data, body) {
			t.Errorf("real member %s: %v, %q; want its body", href, o.Err, o.Data)
		}
	}
	if o := byHref[r.ab+"hostile-gigantic.vcf"]; !errors.Is(o.Err, carddav.ErrResponseTooLarge) {
		t.Errorf("gigantic member: %v, want ErrResponseTooLarge", o.Err)
	}
	for _, name := range []string{"hostile-malformed.vcf", "hostile-two-cards.vcf"} {
		if o := byHref[r.ab+name]; o.Err == nil && !bytes.HasPrefix(o.Data, []byte("BEGIN:VCARD")) {
			t.Errorf("%s: got %q, want the hostile card", name, o.Data)
		}
	}

	if _, err := r.via.Get(ctx, r.ab+"hostile-html.vcf"); err == nil {
		t.Error("GET of an HTML page posing as a vCard succeeded")
	}
	if _, err := r.via.Get(ctx, r.ab+"hostile-gigantic.vcf"); !errors.Is(err, carddav.ErrResponseTooLarge) {
		t.Errorf("GET of the gigantic member: %v, want ErrResponseTooLarge", err)
	}
	if _, err := r.via.Put(ctx, r.ab+"hostile-malformed.vcf", []byte("BEGIN:VCARD\r\nEND:VCARD\r\n"), carddav.IfMatch(`"x"`)); !errors.Is(err, carddav.ErrForbidden) {
		t.Errorf("PUT over a hostile member: %v, want 403", err)
	}
	c := r.hostile.Counts()
	for _, k := range []faultproxy.Kind{faultproxy.MalformedVCard, faultproxy.TwoCards, faultproxy.WrongType, faultproxy.Gigantic, faultproxy.HrefOutside, faultproxy.HrefOtherHost} {
		if c.Faults[k] == 0 {
			t.Errorf("hostile %s never sent (counts %v)", k, c)
		}
	}
}

func TestHostileListings(t *testing.T) {
	for _, tc := range []struct {
		kind faultproxy.Kind
		want error
	}{
		{faultproxy.XMLBomb, carddav.ErrMalformedResponse},
		{faultproxy.HTMLListing, carddav.ErrMalformedResponse},
		{faultproxy.GiantListing, carddav.ErrResponseTooLarge},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			r := newHostileRig(t, small, faultproxy.WithThreats(tc.kind), faultproxy.WithRate(1), faultproxy.WithGiantSize(2<<20))
			// Four tries cover both shapes of bomb (entities, nesting), which the seeded source alternates.
			for i := range 4 {
				if _, err := r.via.SyncCollection(ctx, r.ab, "", 0); !errors.Is(err, tc.want) {
					t.Fatalf("sync-collection %d: %v, want %v", i, err, tc.want)
				}
			}
			if n := r.hostile.Counts().Faults[tc.kind]; n != 4 {
				t.Errorf("counted %d %s, want 4", n, tc.kind)
			}
			if err := r.hostile.SetRate(0); err != nil {
				t.Fatal(err)
			}
			page, err := r.via.SyncCollection(ctx, r.ab, "", 0)
			if err != nil || len(page.Changed) != len(r.real) {
				t.Fatalf("listing once the server behaves: %v, %d members; want the %d real ones", err, len(page.Changed), len(r.real))
			}
		})
	}
}

// TestHostileAtDefaultLimits checks that the client's default limit stops the default gigantic member, which
// is larger than any contact. (A multiget or listing over the default XML limit is refused too, but only after
// the client has parsed 256 MiB, some seconds: the tests above check those at smaller limits.)
func TestHostileAtDefaultLimits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := newHostileRig(t, nil, faultproxy.WithThreats(faultproxy.Gigantic))
	if _, err := r.via.Get(ctx, r.ab+"hostile-gigantic.vcf"); !errors.Is(err, carddav.ErrResponseTooLarge) {
		t.Errorf("GET of the gigantic member: %v, want ErrResponseTooLarge", err)
	}
}
