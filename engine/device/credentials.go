package device

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Passwords live beside the store in a file only the user can read (0600), never in the database, logs or
// output, so a status, a remote listing and a copy of the database reveal none.

// CredentialsPath is the credentials file of the store at path.
func CredentialsPath(path string) string { return path + ".credentials" }

type credentials struct {
	Passwords map[string]string `json:"passwords"`
}

func (d *Device) loadCredentials() (credentials, error) {
	creds := credentials{Passwords: map[string]string{}}
	data, err := os.ReadFile(d.creds)
	if errors.Is(err, os.ErrNotExist) {
		return creds, nil
	}
	if err != nil {
		return creds, fmt.Errorf("read credentials: %w", err)
	}
	if err := json.Unmarshal(data, &creds); err != nil {
		return creds, fmt.Errorf("credentials file %s is damaged: %w", d.creds, err)
	}
	if creds.Passwords == nil {
		creds.Passwords = map[string]string{}
	}
	return creds, nil
}

// savePassword sets (or with an empty password, forgets) a remote's password, replacing the file atomically.
func (d *Device) savePassword(name, password string) error {
	d.credMu.Lock()
	defer d.credMu.Unlock()
	creds, err := d.loadCredentials()
	if err != nil {
		return err
	}
	if password == "" {
		if _, ok := creds.Passwords[name]; !ok {
			return nil
		}
		delete(creds.Passwords, name)
	} else {
		creds.Passwords[name] = password
	}
	data, err := json.Marshal(creds)
	if err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	if err := writeFileAtomic(d.creds, data); err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with data, mode 0600 from the start, so that a crash leaves the old file or
// the new one and no other user can ever read either.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
