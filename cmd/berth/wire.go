package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/sirupsen/logrus"

	"github.com/berth-registry/berth/config"
)

// loadConfig parses the common flags (--config, --data-dir: every command
// finds the data of the berth it serves or manages the same way) and
// loads the configuration.
func loadConfig(name string, args []string, extra func(*flag.FlagSet)) (*config.Config, *flag.FlagSet, error) {
	fl := flag.NewFlagSet("berth "+name, flag.ContinueOnError)
	path := fl.String("config", os.Getenv("BERTH_CONFIG"), "YAML config file (default: embedded defaults)")
	fl.String("data-dir", "", "data directory (overrides data_dir)")
	if extra != nil {
		extra(fl)
	}
	if err := fl.Parse(args); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", config.ErrUsage, err)
	}
	if fl.NArg() > 0 {
		return nil, nil, fmt.Errorf("%w: unexpected argument %q", config.ErrUsage, fl.Arg(0))
	}
	env := os.Environ()
	// Flags win over the file and the environment: they are the most
	// explicit ask.
	fl.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "plain-http":
			env = append(env, "BERTH_HTTP_PLAIN_HTTP="+f.Value.String())
		case "allow-plain-non-loopback":
			env = append(env, "BERTH_HTTP_ALLOW_PLAIN_NON_LOOPBACK="+f.Value.String())
		case "addr":
			env = append(env, "BERTH_HTTP_ADDR="+f.Value.String())
		case "data-dir":
			env = append(env, "BERTH_DATA_DIR="+f.Value.String())
		}
	})
	c, err := config.Load(*path, env)
	return c, fl, err
}

func newLogger(c *config.Config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	// distribution logs through logrus, and every 4xx answer (a client's
	// miss or mistake) at error level: drop those, keep the rest.
	logrus.SetLevel(logrus.ErrorLevel)
	logrus.SetOutput(dropClientErrors{os.Stderr})
	if c.Log.Level == "debug" {
		logrus.SetLevel(logrus.DebugLevel)
	}
	if c.Log.Format == "json" {
		logrus.SetFormatter(&logrus.JSONFormatter{})
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// dropClientErrors filters distribution's "response completed with error"
// lines for 4xx statuses out of its log.
type dropClientErrors struct{ w io.Writer }

func (d dropClientErrors) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("http.response.status=4")) || bytes.Contains(p, []byte(`"http.response.status":4`)) {
		return len(p), nil
	}
	return d.w.Write(p)
}
