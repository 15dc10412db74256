// Package account is the device's Firefox Accounts sign-in state machine (FxA single sign-on with contacts sync
// as an optional service), as a pure function: [Machine.Handle] takes a [State] and a WebChannel [Message] and
// returns the new state, the [Reply] and the [Effect]s the caller must run; [Machine.Apply] does the same for
// the internal [Event]s the caller feeds back (a code exchanged, credentials rejected, a new token, the sync
// switch). Nothing here does I/O, reads a clock or keeps a goroutine, so every transition is table-tested.
//
// The states carry Firefox's own UI names (not_configured, not_verified, signed_in, login_failed), and the
// messages are those of Firefox's FxAccountsWebChannel handler on the account_updates channel, with the
// sync-optional flow of Mozilla bug 1577690 (contacts sync is on only if the login's services.sync asks for it
// and does not decline the contacts engine; a login for the user already signed in leaves the choice alone) and
// the single sign-on rules of the FxA SSO draft (signed out / signed in but not ready / ready; logout is the
// nuclear option that removes what that account brought here). See docs/accounts.md, "The sign-in state machine".
package account
