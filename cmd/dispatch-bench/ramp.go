package main

import (
	"context"
	"io"
)

func runRamp(ctx context.Context, cfg config, stdout io.Writer) (*Result, error) { return nil, nil }
