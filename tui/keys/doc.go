// Package keys names the console's key bindings. Only keys the Linux
// console delivers are used: no shift+tab, no mouse; Esc always means
// "back one step".
package keys
