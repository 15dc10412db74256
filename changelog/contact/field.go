package contact

import "slices"

// Field is a mozContact ContactField: an e-mail address, a URL or an
// instant-messaging address, with its types ("home", "work" …) and
// whether it is the preferred one.
type Field struct {
	Type  []string `json:"type,omitempty"`
	Pref  bool     `json:"pref,omitempty"`
	Value string   `json:"value"`
}

// TelField is a mozContact ContactTelField: a Field with the carrier.
type TelField struct {
	Type    []string `json:"type,omitempty"`
	Pref    bool     `json:"pref,omitempty"`
	Value   string   `json:"value"`
	Carrier string   `json:"carrier,omitempty"`
}

// Address is a mozContact ContactAddress.
type Address struct {
	Type          []string `json:"type,omitempty"`
	Pref          bool     `json:"pref,omitempty"`
	StreetAddress string   `json:"streetAddress,omitempty"`
	Locality      string   `json:"locality,omitempty"`
	Region        string   `json:"region,omitempty"`
	PostalCode    string   `json:"postalCode,omitempty"`
	CountryName   string   `json:"countryName,omitempty"`
}

func (f Field) clone() Field       { f.Type = slices.Clone(f.Type); return f }
func (f TelField) clone() TelField { f.Type = slices.Clone(f.Type); return f }
func (a Address) clone() Address   { a.Type = slices.Clone(a.Type); return a }
