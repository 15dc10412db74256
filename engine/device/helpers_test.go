package device_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/contactsync/contactsync/engine/device"
)

// open opens a device on a fresh store in t.TempDir() and closes it with the test.
func open(t *testing.T, opts ...device.Option) *device.Device {
	t.Helper()
	d, err := device.Open(filepath.Join(t.TempDir(), "data", "contacts.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

func get(t *testing.T, d *device.Device, id string) string {
	t.Helper()
	c, err := d.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return string(c.Data)
}
