package devidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/contactsync/contactsync/adapters/fxa"
)

// rsaBits is the size of generated RSA keys: the least package fxa accepts, and what FxA uses.
const rsaBits = 2048

// signingKey is one key of the provider, private part included.
type signingKey struct {
	kid    string
	alg    string // fxa.RS256 or fxa.ES256
	signer crypto.Signer
}

func newSigningKey(alg string) (*signingKey, error) {
	var signer crypto.Signer
	var err error
	switch alg {
	case fxa.RS256:
		signer, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case fxa.ES256:
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("algorithm %q is not RS256 or ES256", alg)
	}
	if err != nil {
		return nil, err
	}
	return keyOf(alg, signer)
}

// keyOf names a key by its RFC 7638 thumbprint, so a kid changes exactly when the key does.
func keyOf(alg string, signer crypto.Signer) (*signingKey, error) {
	pub := jose.JSONWebKey{Key: signer.Public()}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	return &signingKey{kid: base64.RawURLEncoding.EncodeToString(tp), alg: alg, signer: signer}, nil
}

func (k *signingKey) jwk(private bool) jose.JSONWebKey {
	var key any = k.signer.Public()
	if private {
		key = k.signer
	}
	return jose.JSONWebKey{Key: key, KeyID: k.kid, Algorithm: k.alg, Use: "sig"}
}

// errKeyFileMode refuses a key file others may read: whoever reads it can sign tokens.
var errKeyFileMode = errors.New("key file is readable by group or others; chmod 600 it")

// loadKeyFile reads the keys of a key file (a JWK Set with private keys, in the order they were made), or
// returns fs.ErrNotExist.
func loadKeyFile(path string) ([]*signingKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s (mode %o): %w", path, fi.Mode().Perm(), errKeyFileMode)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	keys := make([]*signingKey, 0, len(set.Keys))
	for i, jk := range set.Keys {
		var signer crypto.Signer
		switch priv := jk.Key.(type) {
		case *rsa.PrivateKey:
			if jk.Algorithm == fxa.RS256 && priv.N.BitLen() >= rsaBits {
				signer = priv
			}
		case *ecdsa.PrivateKey:
			if jk.Algorithm == fxa.ES256 && priv.Curve == elliptic.P256() {
				signer = priv
			}
		}
		if signer == nil {
			return nil, fmt.Errorf("%s: key %d is not an RS256 RSA key of 2048 bits or more, nor an ES256 P-256 key", path, i)
		}
		k, err := keyOf(jk.Algorithm, signer)
		if err != nil {
			return nil, fmt.Errorf("%s: key %d: %w", path, i, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// saveKeyFile writes keys with mode 0600, replacing the file in one rename so a reader never sees half.
func saveKeyFile(path string, keys []*signingKey) error {
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, k.jwk(true))
	}
	data, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return err
	}
	return WritePrivateFile(path, append(data, '\n'))
}

// WritePrivateFile writes data to path with mode 0600 through a temporary file and a rename, so the file is
// never readable by others, nor seen half written. It is for key files and minted tokens.
func WritePrivateFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*") // CreateTemp makes it 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}
