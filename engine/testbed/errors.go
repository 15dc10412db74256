package testbed

import "errors"

var (
	// ErrInvalid reports a Config the test bed refuses.
	ErrInvalid = errors.New("testbed: invalid configuration")
	// ErrFailed reports a run whose oracle found problems (listed in the Report).
	ErrFailed = errors.New("testbed: checks failed")
	// ErrNoVdirsyncer reports that Vdirsyncer was asked for but the vdirsyncer program is not installed.
	ErrNoVdirsyncer = errors.New("testbed: vdirsyncer is not installed (apt-get install vdirsyncer)")
)

var (
	// errSkip marks a planned edit whose contact (or the value to remove) is not on the device.
	errSkip = errors.New("nothing to edit")
	// errTimeout ends a wait that ran out of time.
	errTimeout = errors.New("testbed: timed out")
)
