// Package screens holds the console's screens: the first-boot setup
// wizard (network, disks, tenant, schedule and retention, summary,
// recovery key) and the status screen with its snapshot browser.
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
package screens
