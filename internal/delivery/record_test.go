package delivery

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWithSeq(t *testing.T) {
	assert.Equal(t, `{"seq":3}`, string(withSeq(json.RawMessage(`{}`), 3)))
	assert.Equal(t, `{"a":1,"seq":12}`, string(withSeq(json.RawMessage(`{"a":1}`), 12)))
}
