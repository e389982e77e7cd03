// Package components holds the console's building blocks: the 80x25
// frame every screen is drawn in, a one-line text field, a progress bar and
// byte and duration formatting. They draw only console-safe glyphs and keep
// no goroutines; a screen owns its components and updates them from its
// own Update.
package components
