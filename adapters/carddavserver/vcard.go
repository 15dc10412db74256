package carddavserver

import (
	"fmt"
	"unicode/utf8"
)

// xmlSafe checks that data is UTF-8 made only of characters XML 1.0 can carry (section 2.2), so that the
// vCard comes back byte for byte inside an address-data element as well as from a GET.
func xmlSafe(data []byte) error {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return fmt.Errorf("not UTF-8 at byte %d", i)
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF:
			return fmt.Errorf("control character U+%04X at byte %d", r, i)
		}
		i += size
	}
	return nil
}
