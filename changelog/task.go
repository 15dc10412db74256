package changelog

// Task is one step of a [Store.Sync] replay, in the Firefox OS DataStore model.
type Task struct {
	// Op is OpAdd, OpUpdate, OpRemove, OpClear or OpDone (always the last task).
	Op Op
	// ID is the contact's ID (empty for clear and done).
	ID string
	// Contact is the contact as it is now, for add and update; it was read in the same snapshot as the log.
	Contact Contact
	// Rev is, for a contact, the revision of its last change in the replayed range; for clear, the revision of
	// the last clear in the range (or the trim horizon, when the cursor was older than the kept history); for
	// done, the revision the replay is consistent with, which the consumer saves as its cursor.
	Rev uint64
	// Origins is the set of origins of the changes folded into this task, sorted. It is empty when the history
	// is unknown: a replay from below the trim horizon.
	Origins []Origin
}

// OnlyFrom reports whether every change folded into the task came from origin, so a worker can skip sending a
// remote its own change back. It is false when the origins are unknown.
func (t Task) OnlyFrom(origin Origin) bool {
	for _, o := range t.Origins {
		if o != origin {
			return false
		}
	}
	return len(t.Origins) > 0
}
