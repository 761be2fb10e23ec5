package main

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

// config runs the config subcommands: check validates a file, env lists the
// environment variables the binary reads.
func (r runner) config(args []string) error {
	if len(args) == 0 {
		return errors.New("config: want a subcommand: check FILE or env")
	}
	switch args[0] {
	case "check":
		return r.configCheck(args[1:])
	case "env":
		return r.configEnv(args[1:])
	case "-h", "-help", "--help":
		_, err := fmt.Fprintln(r.stdout, "usage: dispatchd config check [--env] FILE | dispatchd config env")
		return err
	default:
		return fmt.Errorf("config: unknown subcommand %q (want check or env)", args[0])
	}
}

// configCheck layers FILE on the defaults as `serve --config FILE` does and
// prints every problem on its own line, or "ok".
func (r runner) configCheck(args []string) error {
	fs := r.newFlagSet("config check")
	withEnv := fs.Bool("env", false, "apply the DISPATCH_* environment over the file, as serve would")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("config check: want exactly one FILE")
	}
	var getenv func(string) string
	if *withEnv {
		getenv = r.getenv
	}
	problems := checkConfig(fs.Arg(0), getenv)
	for _, p := range problems {
		if _, err := fmt.Fprintln(r.stdout, p); err != nil {
			return err
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("config check: %s: %d problem(s)", fs.Arg(0), len(problems))
	}
	_, err := fmt.Fprintln(r.stdout, "ok")
	return err
}

// checkConfig returns every problem of the file at path layered on
// DefaultConfig, and of the environment when getenv is not nil. The
// decoder keeps going past unknown keys and values of the wrong type, so
// those and Validate's findings come out of one run; only an unreadable or
// syntactically broken file stops it early.
func checkConfig(path string, getenv func(string) string) []error {
	cfg := DefaultConfig()
	var problems []error
	if err := cfg.loadFile(path); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return []error{err}
		}
		for _, msg := range te.Errors {
			problems = append(problems, fmt.Errorf("%s: %s", path, msg))
		}
	}
	if getenv != nil {
		problems = append(problems, cfg.applyEnv(getenv)...)
	}
	if err := cfg.Validate(); err != nil {
		problems = append(problems, splitJoined(err)...)
	}
	return problems
}

// envNames lists every environment variable the binary reads, in the order
// of settings(). Deployment files are checked against it.
func envNames() []string {
	names := []string{configEnv}
	for _, s := range settings() {
		names = append(names, s.env)
	}
	return names
}

// configEnv prints envNames, one a line.
func (r runner) configEnv(args []string) error {
	fs := r.newFlagSet("config env")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("config env: unexpected arguments %q", fs.Args())
	}
	for _, n := range envNames() {
		if _, err := fmt.Fprintln(r.stdout, n); err != nil {
			return err
		}
	}
	return nil
}
