package testproc

import (
	"bufio"
	"io"
	"testing"
)

// LogLines returns a writer whose output goes to t.Log line by line, each
// line prefixed, and flush, which closes the writer and waits until every
// line has been logged. seen, when not nil, also gets every line. Call flush
// once nothing writes any more (the process has been waited for) and before
// t ends: t.Log after the end of a test panics.
func LogLines(t testing.TB, prefix string, seen func(line string)) (out io.Writer, flush func()) {
	r, w := io.Pipe()
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		lines := bufio.NewScanner(r)
		lines.Buffer(make([]byte, 64*1024), 1024*1024)
		for lines.Scan() {
			if seen != nil {
				seen(lines.Text())
			}
			t.Log(prefix + lines.Text())
		}
		// A line too long for the scanner: keep draining so the writer
		// never blocks.
		_, _ = io.Copy(io.Discard, r)
	}()
	return w, func() {
		_ = w.Close()
		<-logged
	}
}
