package faultproxy

import "fmt"

// Hostile kinds: what a Hostile adds to a real address book. The first six are members of the collection,
// listed in every listing and served on every fetch; the last three replace a whole listing, at the rate set
// with WithRate.
const (
	// MalformedVCard is a member whose body is no vCard a parser can read (a card without END:VCARD and a line
	// that is no property).
	MalformedVCard Kind = "malformed-vcard"
	// TwoCards is a member holding two vCards, where RFC 6352 section 5.1 allows one.
	TwoCards Kind = "two-cards"
	// WrongType is a member served as text/html, an HTML page where a vCard should be.
	WrongType Kind = "wrong-content-type"
	// Gigantic is a member whose body is larger than any contact (WithGiantSize), generated as it is sent.
	Gigantic Kind = "gigantic-body"
	// HrefOutside lists members whose hrefs climb out of the collection ("../x.vcf") or name another path.
	HrefOutside Kind = "href-outside"
	// HrefOtherHost lists a member on another host.
	HrefOtherHost Kind = "href-other-host"
	// XMLBomb answers a listing with a billion-laughs document or elements nested a hundred thousand deep.
	XMLBomb Kind = "xml-bomb"
	// HTMLListing answers a listing with 200 and an HTML login page, as a captive portal does.
	HTMLListing Kind = "html-listing"
	// GiantListing answers a listing with a multistatus larger than any address book (WithGiantSize).
	GiantListing Kind = "giant-listing"
)

// DefaultGiantSize is the size of Gigantic and GiantListing bodies: past the CardDAV client's default limits
// for one vCard and one XML answer.
const DefaultGiantSize = 300 << 20

// Threats lists every hostile kind.
func Threats() []Kind {
	return append(memberThreats(), responseThreats()...)
}

func memberThreats() []Kind {
	return []Kind{MalformedVCard, TwoCards, WrongType, Gigantic, HrefOutside, HrefOtherHost}
}

func responseThreats() []Kind { return []Kind{XMLBomb, HTMLListing, GiantListing} }

// WithThreats restricts what a Hostile does to these kinds (all of Threats by default).
func WithThreats(threats ...Kind) Option {
	return func(c *config) error {
		for _, t := range threats {
			if !contains(Threats(), t) {
				return fmt.Errorf("%w: unknown hostile kind %q", ErrInvalid, string(t))
			}
		}
		c.threats = append([]Kind(nil), threats...)
		return nil
	}
}

// WithGiantSize sets the size in bytes of Gigantic and GiantListing bodies (DefaultGiantSize).
func WithGiantSize(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("%w: giant size %d must be positive", ErrInvalid, n)
		}
		c.giant = n
		return nil
	}
}

func contains(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}
