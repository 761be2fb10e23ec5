package engineio_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/transport/engineio"
)

func TestDecodePayload(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    []engineio.Packet
		wantErr error
	}{
		{
			name: "handshake",
			give: `0{"sid":"OOkB2MA7z6vt0kjqAAG8","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`,
			want: []engineio.Packet{{Type: engineio.Open, Data: []byte(`{"sid":"OOkB2MA7z6vt0kjqAAG8","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`)}},
		},
		{
			name: "text and binary message",
			give: "4hello\x1ebAQIDBA==",
			want: []engineio.Packet{
				{Type: engineio.Message, Data: []byte("hello")},
				{Type: engineio.Message, Data: []byte{1, 2, 3, 4}, Binary: true},
			},
		},
		{
			name: "binary event with its attachment",
			give: "451-[\"message\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID",
			want: []engineio.Packet{
				{Type: engineio.Message, Data: []byte(`51-["message",{"_placeholder":true,"num":0}]`)},
				{Type: engineio.Message, Data: []byte{1, 2, 3}, Binary: true},
			},
		},
		{
			name: "socket.io packets and a pong",
			give: "440{\"sid\":\"nB9Q\"}\x1e442[\"auth\",{\"token\":\"abc\"}]\x1e3",
			want: []engineio.Packet{
				{Type: engineio.Message, Data: []byte(`40{"sid":"nB9Q"}`)},
				{Type: engineio.Message, Data: []byte(`42["auth",{"token":"abc"}]`)},
				{Type: engineio.Pong, Data: []byte{}},
			},
		},
		{name: "probe", give: "2probe", want: []engineio.Packet{{Type: engineio.Ping, Data: []byte("probe")}}},
		{name: "close", give: "1", want: []engineio.Packet{{Type: engineio.Close, Data: []byte{}}}},
		{name: "noop", give: "6", want: []engineio.Packet{{Type: engineio.Noop, Data: []byte{}}}},
		{name: "upgrade", give: "5", want: []engineio.Packet{{Type: engineio.Upgrade, Data: []byte{}}}},
		{
			name: "empty binary message",
			give: "b",
			want: []engineio.Packet{{Type: engineio.Message, Data: []byte{}, Binary: true}},
		},
		{name: "unpadded base64", give: "bAQIDBA", wantErr: engineio.ErrBadBase64},
		{name: "space inside base64", give: "bAQID BA==", wantErr: engineio.ErrBadBase64},
		{name: "empty body", give: "", wantErr: engineio.ErrEmptyPacket},
		{name: "empty record between packets", give: "4a\x1e\x1e4b", wantErr: engineio.ErrEmptyPacket},
		{name: "trailing separator", give: "4a\x1e", wantErr: engineio.ErrEmptyPacket},
		{name: "leading separator", give: "\x1e4a", wantErr: engineio.ErrEmptyPacket},
		{name: "type digit out of range", give: "7", wantErr: engineio.ErrUnknownType},
		{name: "type is a letter", give: "x", wantErr: engineio.ErrUnknownType},
		{name: "type below range", give: "/4", wantErr: engineio.ErrUnknownType},
		{name: "bad base64", give: "b!!!!", wantErr: engineio.ErrBadBase64},
		{name: "truncated base64", give: "bAQI", wantErr: engineio.ErrBadBase64},
		{name: "URL-safe base64", give: "b-_8=", wantErr: engineio.ErrBadBase64},
		{name: "second record invalid", give: "4ok\x1e9", wantErr: engineio.ErrUnknownType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := engineio.DecodePayload([]byte(tt.give))
			require.ErrorIs(t, err, tt.wantErr)
			if tt.wantErr != nil {
				assert.Nil(t, got)
				return
			}
			assert.Equal(t, tt.want, got)
			// Every valid case here is canonical, so it encodes back byte for byte.
			assert.Equal(t, tt.give, string(engineio.EncodePayload(got)))
		})
	}
}

func TestDecodeFrame(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		binary  bool
		want    engineio.Packet
		wantErr error
	}{
		{name: "ping", give: "2", want: engineio.Packet{Type: engineio.Ping, Data: []byte{}}},
		{name: "probe", give: "2probe", want: engineio.Packet{Type: engineio.Ping, Data: []byte("probe")}},
		{name: "message", give: `42["message","x"]`, want: engineio.Packet{Type: engineio.Message, Data: []byte(`2["message","x"]`)}},
		{name: "binary frame has no type byte", give: "\x01\x02", binary: true, want: engineio.Packet{Type: engineio.Message, Data: []byte{1, 2}, Binary: true}},
		{name: "empty binary frame", give: "", binary: true, want: engineio.Packet{Type: engineio.Message, Data: []byte{}, Binary: true}},
		{name: "empty text frame", give: "", wantErr: engineio.ErrEmptyPacket},
		{name: "unknown type", give: "8", wantErr: engineio.ErrUnknownType},
		{name: "base64 is not special on websocket", give: "bAQID", wantErr: engineio.ErrUnknownType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := engineio.DecodeFrame([]byte(tt.give), tt.binary)
			require.ErrorIs(t, err, tt.wantErr)
			assert.Equal(t, tt.want, got)
		})
	}
}
