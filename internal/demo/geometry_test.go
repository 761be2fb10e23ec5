package demo

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/dispatchd/dispatchd/internal/geo"
)

func TestRandomPointStaysInTheCity(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	center := DefaultConfig().Center
	far := 0.0
	for range 10_000 {
		far = max(far, geo.Distance(center, randomPoint(rng, center, 3000)))
	}
	assert.LessOrEqual(t, far, 3000*1.01, "within the radius (the flat-earth step errs by under 1 %)")
	assert.Greater(t, far, 2900.0, "and out to it")
}

func TestToward(t *testing.T) {
	a, b := geo.Point{Lat: 52.52, Lng: 13.40}, geo.Point{Lat: 52.53, Lng: 13.40} // about 1,112 m
	p, arrived := toward(a, b, 100)
	assert.False(t, arrived)
	assert.InDelta(t, 100, geo.Distance(a, p), 0.5)
	p, arrived = toward(p, b, 5000)
	assert.True(t, arrived)
	assert.Equal(t, b, p)
}
