// Command contactsync keeps a device's contacts in a versioned local store and syncs them with CardDAV servers.
//
// It is a front end over package engine/device, which holds the operations every front end shares (adding and
// importing contacts, resolving conflicts, configuring and syncing remotes): the commands here parse flags,
// read and write files and streams, and print what the device reports. It also runs the embedded CardDAV
// server (`contactsync server`) and the multi-device test bed (`contactsync testbed`).
//
// Run `contactsync help` for the commands; docs/cli.md describes each.
package main
