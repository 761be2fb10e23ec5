package main

import "io"

func runPlot(args []string, stdout io.Writer) error { return nil }
