package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"os"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// point is one (achieved orders/s, p99 pickup ms) pair.
type point struct{ rate, p99 float64 }

// plotSeries reads results into one series per label: a ramp gives its
// steps, any other result one point.
func plotSeries(results []*Result) (labels []string, series map[string][]point) {
	series = map[string][]point{}
	for _, r := range results {
		label := r.Label
		if label == "" {
			label = r.Mode
		}
		if _, ok := series[label]; !ok {
			labels = append(labels, label)
		}
		switch {
		case len(r.Steps) > 0:
			for _, s := range r.Steps {
				series[label] = append(series[label], point{s.AchievedRate, s.P99ms})
			}
		case r.Orders != nil && r.PickupLatency != nil:
			series[label] = append(series[label], point{r.Orders.AchievedRate, r.PickupLatency.P99})
		}
	}
	for _, l := range labels {
		pts := series[l]
		sort.Slice(pts, func(i, j int) bool { return pts[i].rate < pts[j].rate })
	}
	return labels, series
}

// runPlot draws p99 pickup:available latency against achieved order rate.
func runPlot(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("dispatch-bench plot", flag.ContinueOnError)
	fs.SetOutput(stdout)
	out := fs.String("out", "bench-latency.png", "PNG to write")
	title := fs.String("title", "p99 pickup:available latency vs order rate", "plot title")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("plot: give result JSON files")
	}
	results, err := readResults(fs.Args())
	if err != nil {
		return err
	}
	labels, series := plotSeries(results)
	p := plot.New()
	p.Title.Text = *title
	p.X.Label.Text = "achieved orders/s"
	p.Y.Label.Text = "p99 pickup:available latency (ms)"
	p.X.Min, p.Y.Min = 0, 0
	p.Add(plotter.NewGrid())
	if err := addSeries(p, labels, series); err != nil {
		return err
	}
	if len(results) > 0 && results[0].Config.P99Target > 0 {
		addTarget(p, float64(results[0].Config.P99Target)/1e6, series)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	if err := p.Save(8*vg.Inch, 5*vg.Inch, *out); err != nil {
		return fmt.Errorf("save %s: %w", *out, err)
	}
	fmt.Fprintf(stdout, "wrote %s (%d series)\n", *out, len(labels))
	return nil
}

// readResults reads result JSON files.
func readResults(paths []string) ([]*Result, error) {
	var results []*Result
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var r Result
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		results = append(results, &r)
	}
	return results, nil
}

// addSeries draws one line with points per label.
func addSeries(p *plot.Plot, labels []string, series map[string][]point) error {
	for i, l := range labels {
		xys := make(plotter.XYs, len(series[l]))
		for j, pt := range series[l] {
			xys[j].X, xys[j].Y = pt.rate, pt.p99
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("plot %s: %w", l, err)
		}
		c := plotutil.Color(i)
		line.Color, points.Color = c, c
		points.Shape = plotutil.Shape(i)
		p.Add(line, points)
		p.Legend.Add(l, line, points)
	}
	return nil
}

// addTarget draws the p99 target (ms) as a dashed bar across every series.
func addTarget(p *plot.Plot, target float64, series map[string][]point) {
	maxX := 1.0
	for _, pts := range series {
		for _, pt := range pts {
			maxX = max(maxX, pt.rate)
		}
	}
	bar, err := plotter.NewLine(plotter.XYs{{X: 0, Y: target}, {X: maxX * 1.05, Y: target}})
	if err != nil {
		return // as before: no bar rather than no plot
	}
	bar.Color = color.RGBA{R: 200, A: 255}
	bar.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(bar)
	p.Legend.Add(fmt.Sprintf("target p99 %.0f ms", target), bar)
}
