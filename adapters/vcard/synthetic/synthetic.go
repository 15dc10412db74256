package synthetic

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

var (
	givenNames  = []string{"Ada", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger", "Radia", "Hedy", "Alan", "Sophie", "Niklaus", "Annie", "Jean"}
	familyNames = []string{"Lovelace", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen", "Dijkstra", "Perlman", "Lamarr", "Turing", "Wilson", "Wirth", "Easley", "Sammet"}
	cities      = []string{"Berlin", "Paris", "Portland", "Tokyo", "Nairobi", "Lima", "Oslo", "Perth"}
)

// Card returns the i-th card of a deterministic synthetic address book: vCard 3.0, CRLF, 8–14 properties and
// about 450 bytes, like a typical phone contact (name, org, two emails, phones, an Apple-style labelled group,
// an address, a note).
func Card(seed uint64, i int) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	g := givenNames[r.IntN(len(givenNames))]
	f := familyNames[r.IntN(len(familyNames))]
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\r\n", a...) }
	w("BEGIN:VCARD")
	w("VERSION:3.0")
	w("PRODID:-//contactsync//bench//EN")
	w("UID:bench-%d-%08d", seed, i)
	w("FN:%s %s %d", g, f, i)
	w("N:%s;%s;;;", f, g)
	w("ORG:%s Labs\\, Inc.;Research", f)
	w("EMAIL;TYPE=INTERNET,WORK,pref:%s.%s.%d@example.org", strings.ToLower(g), strings.ToLower(f), i)
	if r.IntN(2) == 0 {
		w("EMAIL;TYPE=INTERNET,HOME:%s%d@mail.example.net", strings.ToLower(g), r.IntN(1000))
	}
	w("TEL;TYPE=CELL:+1 555 %04d", r.IntN(10000))
	if r.IntN(3) == 0 {
		w("item1.TEL:+49 30 %04d %04d", r.IntN(10000), r.IntN(10000))
		w("item1.X-ABLabel:Lab")
	}
	w("ADR;TYPE=HOME:;;%d Example Street;%s;;%05d;Country", r.IntN(200)+1, cities[r.IntN(len(cities))], r.IntN(100000))
	if r.IntN(2) == 0 {
		w("NOTE:Met at conference %d\\, follow up about sync\\; bring notes.", 1990+r.IntN(35))
	}
	w("CATEGORIES:Friends,Work")
	w("REV:2026-01-%02dT10:%02d:00Z", 1+r.IntN(28), r.IntN(60))
	w("END:VCARD")
	return []byte(b.String())
}

// AddressBook returns n cards of Card(seed, 0..n-1) concatenated as one .vcf file.
func AddressBook(seed uint64, n int) []byte {
	var out []byte
	for i := range n {
		out = append(out, Card(seed, i)...)
	}
	return out
}
