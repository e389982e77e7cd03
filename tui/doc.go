// Package tui is the appliance's console, the program on tty1: a setup
// wizard on first boot, then the status screen. It is drawn for the Linux
// virtual terminal (80x25, 16 colours, code page 437 glyphs, keyboard
// only) with bubbletea.
//
// The console is a client: it changes the machine only through the setup
// backend (appliance/setup) and talks to the agent only through its API
// (screens.Service, which api.Service satisfies). The one exception is
// the software update screen: updates never go through the network-facing
// agent, so the console, running as root on tty1, calls appliance/osupdate
// itself (screens.Updater, which SystemUpdater satisfies).
//
// Subpackages: screens (the wizard steps and the status screen),
// components (frame, fields, bars), keys (bindings), styles (palette,
// renderer, console-safe glyphs).
package tui
