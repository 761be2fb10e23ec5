package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// config is everything the flags set. It goes into the result as is.
type config struct {
	Mode         string        `json:"mode"`
	URL          string        `json:"url"`
	Secret       string        `json:"-"`
	Tenants      int           `json:"tenants"`
	Vendors      int           `json:"vendors"`
	Drivers      int           `json:"drivers"`
	Customers    int           `json:"customers"`
	Rate         float64       `json:"rate"`
	Duration     time.Duration `json:"duration_ns"`
	Warmup       time.Duration `json:"warmup_ns"`
	Drain        time.Duration `json:"drain_ns"`
	Claimers     int           `json:"claimers"`
	LocationRate float64       `json:"location_rate"`
	Carry        time.Duration `json:"carry_ns"`
	P99Target    time.Duration `json:"p99_target_ns"`
	Out          string        `json:"out"`
	PID          int           `json:"pid"`
	Label        string        `json:"label"`
	Quiet        bool          `json:"-"`
	Timeout      time.Duration `json:"connect_timeout_ns"`

	// ramp
	Step         float64       `json:"step,omitempty"`
	StepDuration time.Duration `json:"step_duration_ns,omitempty"`
	MaxRate      float64       `json:"max_rate,omitempty"`

	// conns
	Conns    int           `json:"conns,omitempty"`
	Sources  int           `json:"sources,omitempty"`
	ConnRate float64       `json:"conn_rate,omitempty"`
	Hold     time.Duration `json:"hold_ns,omitempty"`
	// Subscribe has each conns driver send pickups:subscribe {} and
	// wait for its ack before it counts as opened.
	Subscribe bool `json:"subscribe,omitempty"`
}

const usageHead = `dispatch-bench plays the dispatch scenario against any server speaking the
dispatch wire contract (Socket.IO v4 over WebSocket) and writes a JSON result.

  dispatch-bench [dispatch] [flags]   open-loop orders at --rate for --duration
  dispatch-bench ramp [flags]         raise --rate by --step every --step-duration until p99 or errors fail
  dispatch-bench conns [flags]        --conns idle authenticated driver sockets, held for --hold
  dispatch-bench plot --out docs/bench-latency.png result.json...
  dispatch-bench fake --addr 127.0.0.1:8090 --secret S   a minimal in-memory server, to find the bench's own ceiling

The server limits every socket to 20 client events/s (bursts of 40) by
default and answers the excess rate_limited, which the bench counts as
errors. Vendors send rate/vendors events/s each: for rates above ~20 x
vendors, or for ramps, start dispatchd with DISPATCH_EVENTS_PER_SECOND and
DISPATCH_EVENT_BURST raised (e.g. 1000 and 2000).

Client and server on one machine share its file-descriptor limit (20,000
here): keep --conns at or below ~9,000 unless the server has its own limit.

Flags:
`

func parseFlags(mode string, args []string, out io.Writer) (config, error) {
	c := config{Mode: mode}
	fs := flag.NewFlagSet("dispatch-bench "+mode, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usageHead)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "server base URL; a comma-separated list spreads each role's sockets over the nodes of a cluster")
	fs.StringVar(&c.Secret, "secret", "", "HS256 secret the server verifies JWTs with (its DISPATCH_JWT_SECRET)")
	fs.IntVar(&c.Tenants, "tenants", 1, "tenants, each with its own vendors, drivers and customers")
	fs.IntVar(&c.Vendors, "vendors", 10, "vendors per tenant")
	fs.IntVar(&c.Drivers, "drivers", 200, "drivers per tenant, all subscribed to pickups")
	fs.IntVar(&c.Customers, "customers", 100, "customers per tenant")
	fs.Float64Var(&c.Rate, "rate", 20, "orders per second over all tenants (ramp: the first step)")
	fs.DurationVar(&c.Duration, "duration", 30*time.Second, "measured time after the warmup")
	fs.DurationVar(&c.Warmup, "warmup", 5*time.Second, "time at --rate before measuring")
	fs.DurationVar(&c.Drain, "drain", 10*time.Second, "after the last order, how long to wait for every order to finish (added to --carry)")
	fs.IntVar(&c.Claimers, "claimers", 3, "drivers racing to claim each order")
	fs.Float64Var(&c.LocationRate, "location-rate", 1, "location:update per second per carrying driver")
	fs.DurationVar(&c.Carry, "carry", 2*time.Second, "time from picked_up to delivered")
	fs.DurationVar(&c.P99Target, "p99-target", 100*time.Millisecond, "pass bar for the p99 pickup:available latency")
	fs.StringVar(&c.Out, "out", "result.json", "JSON result file (\"-\" for stdout, \"\" for none)")
	fs.IntVar(&c.PID, "pid", 0, "server process id to sample CPU% and RSS from /proc every second (0: none)")
	fs.StringVar(&c.Label, "label", "", "free text copied into the result (the plot's line name)")
	fs.BoolVar(&c.Quiet, "quiet", false, "no progress line")
	fs.DurationVar(&c.Timeout, "connect-timeout", 10*time.Second, "timeout of one connection's handshake and CONNECT")
	fs.Float64Var(&c.Step, "step", 20, "ramp: orders/s added per step")
	fs.DurationVar(&c.StepDuration, "step-duration", 20*time.Second, "ramp: length of one step")
	fs.Float64Var(&c.MaxRate, "max-rate", 2000, "ramp: last rate tried")
	fs.IntVar(&c.Conns, "conns", 10_000, "conns: idle driver sockets to open")
	fs.IntVar(&c.Sources, "sources", 0, "source addresses 127.0.0.1..N the sockets are spread over (0: conns: one per 20,000; else the kernel's choice)")
	fs.Float64Var(&c.ConnRate, "conn-rate", 2000, "conns: connections opened per second")
	fs.DurationVar(&c.Hold, "hold", 30*time.Second, "conns: how long to hold them open")
	fs.BoolVar(&c.Subscribe, "subscribe", false, "conns: each driver sends pickups:subscribe {} and waits for its ack before it counts as opened")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return c, c.validate()
}

func (c *config) validate() error {
	var errs []error
	if c.Secret == "" {
		errs = append(errs, errors.New("--secret is required"))
	}
	if c.Tenants < 1 || c.Vendors < 1 || c.Drivers < 1 || c.Customers < 1 {
		errs = append(errs, errors.New("--tenants, --vendors, --drivers and --customers must be at least 1"))
	}
	if c.Rate <= 0 || c.Duration <= 0 || c.Warmup < 0 {
		errs = append(errs, errors.New("--rate and --duration must be positive, --warmup not negative"))
	}
	if c.Claimers < 1 {
		errs = append(errs, errors.New("--claimers must be at least 1"))
	}
	if c.LocationRate < 0 || c.Carry < 0 {
		errs = append(errs, errors.New("--location-rate and --carry must not be negative"))
	}
	switch c.Mode {
	case "ramp":
		if c.Step <= 0 || c.StepDuration <= 0 || c.MaxRate < c.Rate {
			errs = append(errs, errors.New("ramp needs --step > 0, --step-duration > 0 and --max-rate ≥ --rate"))
		}
	case "conns":
		if c.Conns < 1 || c.ConnRate <= 0 || c.Hold < 0 {
			errs = append(errs, errors.New("conns needs --conns ≥ 1, --conn-rate > 0, --hold ≥ 0"))
		}
		if c.Sources <= 0 {
			c.Sources = (c.Conns + 19_999) / 20_000
		}
	}
	if c.Sources > 254 {
		errs = append(errs, errors.New("--sources must be at most 254"))
	}
	return errors.Join(errs...)
}
