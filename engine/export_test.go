package engine

// SameContent exposes the engine's version comparison to the tests that check it against real servers.
var SameContent = sameContent
