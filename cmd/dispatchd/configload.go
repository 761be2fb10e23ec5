package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dispatchd/dispatchd/internal/auth"
)

// configEnv names the environment variable holding the config file path.
const configEnv = "DISPATCH_CONFIG"

// setting is one value settable from the environment and, when flag is not
// empty, from the command line. One table keeps the two in step.
type setting struct {
	env   string
	flag  string
	usage string
	set   func(c *Config, v string) error
}

// settings lists what the environment and flags may override. The JWT secret
// has no flag on purpose: command lines are visible to every local user.
func settings() []setting {
	return []setting{
		{"DISPATCH_ADDR", "addr", "listen address", setString(func(c *Config) *string { return &c.HTTP.Addr })},
		{"DISPATCH_READ_HEADER_TIMEOUT", "", "", setDuration(func(c *Config) *time.Duration { return &c.HTTP.ReadHeaderTimeout })},
		{"DISPATCH_READ_TIMEOUT", "", "", setDuration(func(c *Config) *time.Duration { return &c.HTTP.ReadTimeout })},
		{"DISPATCH_IDLE_TIMEOUT", "", "", setDuration(func(c *Config) *time.Duration { return &c.HTTP.IdleTimeout })},
		{"DISPATCH_PUBLIC_URL", "", "", setString(func(c *Config) *string { return &c.HTTP.PublicURL })},
		{"DISPATCH_TILE_URL", "", "", setString(func(c *Config) *string { return &c.Console.TileURL })},
		{"DISPATCH_TILE_ATTRIBUTION", "", "", setString(func(c *Config) *string { return &c.Console.TileAttribution })},
		{"DISPATCH_JWT_SECRET", "", "", setSecret},
		{"DISPATCH_JWT_GLOBAL_SECRET", "", "", setBool(func(c *Config) **bool { return &c.Auth.GlobalSecret })},
		{"DISPATCH_ADMIN_TOKEN", "", "", setString(func(c *Config) *string { return &c.Admin.Token })},
		{"DISPATCH_JWT_ISSUER", "", "", setString(func(c *Config) *string { return &c.Auth.Issuer })},
		{"DISPATCH_JWT_AUDIENCE", "", "", setString(func(c *Config) *string { return &c.Auth.Audience })},
		{"DISPATCH_AUTH_EXPIRING_LEAD", "", "", setDuration(func(c *Config) *time.Duration { return &c.Auth.ExpiringLead })},
		{"DISPATCH_DATA_DIR", "data-dir", "directory for embedded state", setString(func(c *Config) *string { return &c.DataDir })},
		{"DISPATCH_NATS_URL", "nats-url", "external NATS URL (empty: embedded)", setString(func(c *Config) *string { return &c.NATS.URL })},
		{"DISPATCH_RETENTION", "", "", setDuration(func(c *Config) *time.Duration { return &c.Delivery.Retention })},
		{"DISPATCH_NATS_STREAM", "", "", setString(func(c *Config) *string { return &c.NATS.Stream })},
		{"DISPATCH_NATS_PREFIX", "", "", setString(func(c *Config) *string { return &c.NATS.Prefix })},
		{"DISPATCH_NATS_REPLICAS", "", "", setInt(func(c *Config) *int { return &c.NATS.Replicas })},
		{"DISPATCH_DATABASE_URL", "database-url", "postgres:// URL (empty: SQLite in the data dir)", setString(func(c *Config) *string { return &c.Store.DatabaseURL })},
		{"DISPATCH_LOG_LEVEL", "log-level", "debug, info, warn or error", setString(func(c *Config) *string { return &c.Log.Level })},
		{"DISPATCH_LOG_FORMAT", "log-format", "json or console", setString(func(c *Config) *string { return &c.Log.Format })},
		{"DISPATCH_EVENTS_PER_SECOND", "", "", setFloat(func(c *Config) *float64 { return &c.Tenants.EventsPerSecond })},
		{"DISPATCH_EVENT_BURST", "", "", setInt(func(c *Config) *int { return &c.Tenants.EventBurst })},
		{"DISPATCH_MAX_SOCKETS_PER_TENANT", "", "", setInt(func(c *Config) *int { return &c.Tenants.MaxSocketsPerTenant })},
		{"DISPATCH_STRATEGY", "", "", setString(func(c *Config) *string { return (*string)(&c.Tenants.Strategy) })},
		{"DISPATCH_OFFER_SIZE", "", "", setInt(func(c *Config) *int { return &c.Tenants.OfferSize })},
		{"DISPATCH_OFFER_TTL", "", "", setDuration(func(c *Config) *time.Duration { return &c.Tenants.OfferTTL })},
		{"DISPATCH_OFFER_ROUNDS", "", "", setInt(func(c *Config) *int { return &c.Tenants.OfferRounds })},
		{"DISPATCH_PPROF_ADDR", "", "", setString(func(c *Config) *string { return &c.Debug.PprofAddr })},
		{"DISPATCH_PING_INTERVAL", "", "", setDuration(func(c *Config) *time.Duration { return &c.Transport.PingInterval })},
		{"DISPATCH_PING_TIMEOUT", "", "", setDuration(func(c *Config) *time.Duration { return &c.Transport.PingTimeout })},
		{"DISPATCH_MAX_PAYLOAD", "", "", setInt(func(c *Config) *int { return &c.Transport.MaxPayload })},
		{"DISPATCH_CONNECT_TIMEOUT", "", "", setDuration(func(c *Config) *time.Duration { return &c.Transport.ConnectTimeout })},
		{"DISPATCH_MAX_CONNECTIONS", "", "", setInt(func(c *Config) *int { return &c.Transport.MaxConnections })},
		{"DISPATCH_MAX_CONNECTIONS_PER_IP", "", "", setInt(func(c *Config) *int { return &c.Transport.MaxConnectionsPerIP })},
		{"DISPATCH_ALLOWED_ORIGINS", "", "", setList(func(c *Config) *[]string { return &c.Transport.AllowedOrigins })},
		{"DISPATCH_WEBHOOKS_ALLOW_PRIVATE", "", "", setFlag(func(c *Config) *bool { return &c.Webhooks.AllowPrivate })},
		{"DISPATCH_WEBHOOKS_DISABLE_AFTER", "", "", setDuration(func(c *Config) *time.Duration { return &c.Webhooks.DisableAfter })},
	}
}

// configFlags holds the flags of the serve command until the file and the
// environment have been applied beneath them.
type configFlags struct {
	path string
	set  map[string]string // flag name -> value, only flags given explicitly
}

// newConfigFlags registers --config and one flag per flag-capable setting.
func newConfigFlags(fs *flag.FlagSet) *configFlags {
	cf := &configFlags{set: map[string]string{}}
	fs.StringVar(&cf.path, "config", "", "YAML config file (default $"+configEnv+")")
	for _, s := range settings() {
		if s.flag != "" {
			fs.String(s.flag, "", s.usage+" ($"+s.env+")")
		}
	}
	return cf
}

// collect records the flags that were given, after fs.Parse. Flags left at
// their zero default must not erase values from the file or the environment.
func (cf *configFlags) collect(fs *flag.FlagSet) {
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "config" {
			cf.set[f.Name] = f.Value.String()
		}
	})
}

// loadConfig layers defaults, the YAML file, the environment and the flags,
// then validates the result.
func loadConfig(cf *configFlags, getenv func(string) string) (Config, error) {
	cfg, err := layerConfig(cf, getenv)
	if err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid config: %w", err)
	}
	return cfg, nil
}

// layerConfig is loadConfig without the validation, for a command that
// reads one setting (health: the address) and must not fail on others.
func layerConfig(cf *configFlags, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	path := cf.path
	if path == "" {
		path = getenv(configEnv)
	}
	if path != "" {
		if err := cfg.loadFile(path); err != nil {
			return Config{}, err
		}
	}

	errs := cfg.applyEnv(getenv)
	for _, s := range settings() {
		if v, ok := cf.set[s.flag]; ok && s.flag != "" {
			if err := s.set(&cfg, v); err != nil {
				errs = append(errs, fmt.Errorf("--%s: %w", s.flag, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// applyEnv overlays every DISPATCH_* variable that is set and returns one
// error per variable that does not parse.
func (c *Config) applyEnv(getenv func(string) string) []error {
	var errs []error
	for _, s := range settings() {
		if v := getenv(s.env); v != "" {
			if err := s.set(c, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", s.env, err))
			}
		}
	}
	return errs
}

// loadFile overlays a YAML file. Unknown keys are errors, so a typo never
// silently leaves a default in force.
func (c *Config) loadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open config: %w", err)
	}
	defer f.Close()

	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("parse config %s: %w", path, err)
	}
	return nil
}

func setString(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		*field(c) = v
		return nil
	}
}

// setSecret sets the JWT secret, which is bytes.
func setSecret(c *Config, v string) error {
	c.Auth.Secret = auth.Secret(v)
	return nil
}

func setDuration(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*field(c) = d
		return nil
	}
}

func setFloat(field func(*Config) *float64) func(*Config, string) error {
	return func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", v)
		}
		*field(c) = f
		return nil
	}
}

func setInt(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("want an integer, got %q", v)
		}
		*field(c) = n
		return nil
	}
}

// setList splits a comma-separated value, ignoring blanks around items.
func setList(field func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		var items []string
		for _, it := range strings.Split(v, ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		*field(c) = items
		return nil
	}
}

func setBool(field func(*Config) **bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		*field(c) = &b
		return nil
	}
}

// setFlag sets a plain bool (setBool: one whose unset state matters).
func setFlag(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		*field(c) = b
		return nil
	}
}
