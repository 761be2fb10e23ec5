package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPublicBase(t *testing.T) {
	tests := []struct {
		addr, public, want string
	}{
		{":8080", "", "http://localhost:8080"},
		{"0.0.0.0:9000", "", "http://localhost:9000"},
		{"[::]:9000", "", "http://localhost:9000"},
		{"127.0.0.1:9000", "", "http://127.0.0.1:9000"},
		{"[::1]:9000", "", "http://[::1]:9000"},
		{"track.internal:80", "", "http://track.internal:80"},
		{":8080", "https://shop.example/dispatch/", "https://shop.example/dispatch"},
		{":8080", "https://shop.example", "https://shop.example"},
	}
	for _, tc := range tests {
		got := HTTPConfig{Addr: tc.addr, PublicURL: tc.public}.PublicBase()
		assert.Equal(t, tc.want, got, "%s %s", tc.addr, tc.public)
	}
	for _, bad := range []string{"shop.example", "ftp://shop.example", "https://", "https://a.example/?x=1", "https://a.example/#f", "https://u:p@a.example", "mailto:x@y"} {
		assert.Error(t, checkPublicURL(bad), bad)
	}
	for _, good := range []string{"http://localhost:8080", "https://shop.example/dispatch/"} {
		assert.NoError(t, checkPublicURL(good), good)
	}
}
