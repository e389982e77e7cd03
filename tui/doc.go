// Package tui is the appliance's console, the program on tty1: a setup
// wizard on first boot, then the status screen. It is drawn for the Linux
// virtual terminal (80x25, 16 colours, code page 437 glyphs, keyboard
// only) with bubbletea.
//
// The console is a client. It talks to the agent only through its API
// (screens.Service, which api.Service satisfies, over the agent's socket)
// and installs software updates only by asking the root-owned update
// service (api.Updater, over its own socket): updates never go through the
// network-facing agent, and the console writes no boot disk itself. The
// one exception is the first-boot wizard: before there is an agent, it
// changes the machine through the setup backend (appliance/setup).
//
// Subpackages: screens (the wizard steps and the status screen),
// components (frame, fields, bars), keys (bindings), styles (palette,
// renderer, console-safe glyphs).
package tui
