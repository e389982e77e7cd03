package export

import (
	"errors"
	"io"
)

// WriteEML writes one message as an .eml file: the MIME bytes verbatim,
// line endings included.
func WriteEML(w io.Writer, mime []byte) error {
	if len(mime) == 0 {
		return errors.New("export: empty message")
	}
	_, err := w.Write(mime)
	return err
}
