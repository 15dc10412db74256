package testbed

// worker is a device's sync worker, in this process or in another.
type worker interface {
	// trigger asks for a pull now.
	trigger()
	// stop ends the worker and waits for it.
	stop() error
}
