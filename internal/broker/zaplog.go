package broker

import (
	"fmt"
	"strings"
	"sync"

	"go.uber.org/zap"
)

// natsReady is the embedded server's last start-up notice.
const natsReady = "Server is ready"

// zapLogger sends the embedded server's log through zap, one line per
// entry. The start-up banner (some twenty notices: version, name, the
// JetStream ASCII art and limits) is folded into one "embedded nats ready"
// line whose fields are the banner's "Key: value" pairs; each banner notice
// still appears on its own at debug.
type zapLogger struct {
	log *zap.Logger

	mu      sync.Mutex
	ready   bool        // the banner is over: notices pass at info
	section string      // field prefix of the banner section ("jetstream_")
	banner  []zap.Field // the banner's pairs, until natsReady
}

func newZapLogger(log *zap.Logger) *zapLogger { return &zapLogger{log: log} }

func (l *zapLogger) Noticef(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ready {
		l.log.Info(msg)
		return
	}
	if msg == natsReady {
		l.ready = true
		l.log.Info("embedded nats ready", l.banner...)
		l.banner = nil
		return
	}
	l.log.Debug(msg)
	l.fold(msg)
}

// fold keeps a banner line's "Key: value" pair as a field and follows the
// "---- SECTION ----" headers; art and prose are left at debug only.
func (l *zapLogger) fold(msg string) {
	if strings.HasPrefix(msg, "---") {
		l.section = strings.ToLower(strings.Trim(msg, "- ")) // "" at the closing rule
		if l.section != "" {
			l.section += "_"
		}
		return
	}
	if !strings.HasPrefix(msg, "  ") {
		return
	}
	key, value, ok := strings.Cut(strings.TrimSpace(msg), ":")
	// Not a pair: art, or the banner's URL ("https://…").
	if !ok || key == "" || strings.ContainsAny(key, "\\/|_") || strings.HasPrefix(value, "//") {
		return
	}
	key = l.section + strings.ReplaceAll(strings.ToLower(key), " ", "_")
	l.banner = append(l.banner, zap.String(key, strings.Trim(strings.TrimSpace(value), `"`)))
}

func (l *zapLogger) Warnf(format string, v ...any)  { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *zapLogger) Fatalf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *zapLogger) Errorf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *zapLogger) Debugf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *zapLogger) Tracef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
