// Package screens holds the console's screens: the first-boot setup
// wizard (network, disks, tenant, schedule and retention, summary,
// recovery key) and the status screen with its actions: the browser
// (choose a restore point, descend by display path, R to restore a
// folder or an item), replacing a missing disk, changing the
// retention windows, and updating or rolling back the appliance software
// (UpdateScreen).
//
// Each screen is a plain struct driven by its Update method with bubbletea
// messages and drawn by View into a components.Frame. Work that may block
// (reading the network, signing in to the tenant, creating the vault,
// calling the agent) runs in a tea.Cmd and comes back as a message, so a
// test can drive a screen by feeding key messages and running the
// returned commands itself.
//
// Words used here:
//
//   - Step: one screen of the wizard. Enter moves forward within a step
//     and then to the next step; Esc goes back one step.
//   - Busy: a command is running; the frame says what it is doing.
//   - Phase: where an action form is. It is filled in (Esc cancels it
//     without calling the agent), then reviewed (enter confirms, Esc goes
//     back to the form), then running (Esc leaves it running; its result
//     also lands on the status line), then done, showing the result.
package screens
