package strictjson

import (
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUnquote(t *testing.T) {
	for raw, want := range map[string]string{
		`"iss"`:         "iss",
		`""`:            "",
		`"a\"b"`:        `a"b`,
		`"\u0065xp"`:    "exp",
		`"caf\u00e9 ☕"`: "café ☕",
	} {
		got, err := Unquote(jsontext.Value(raw))
		require.NoError(t, err, raw)
		assert.Equal(t, want, got, raw)
	}
	assert.Nil(t, Plain(jsontext.Value(`"\u0065xp"`)), "escaped strings are not plain")
	assert.Equal(t, []byte("exp"), Plain(jsontext.Value(`"exp"`)))
}

func TestFoldsToAny(t *testing.T) {
	names := []string{"exp", "client_id"}
	for name, want := range map[string]bool{"exp": true, "EXP": true, "Client_ID": true, "ex": false, "expiry": false, "ſub": false} {
		assert.Equal(t, want, FoldsToAny(name, names), name)
	}
}

// A pooled decoder is strict and keeps nothing of its input once released.
func TestDecoder(t *testing.T) {
	d := NewDecoder(`{"a":1,"a":2}`)
	_, err := d.ReadValue()
	assert.ErrorIs(t, err, jsontext.ErrDuplicateName)
	d.Release()

	d = NewDecoder(`{"a":"x"}`)
	v, err := d.ReadValue()
	require.NoError(t, err)
	assert.Equal(t, `{"a":"x"}`, string(v))
	d.Release()
	assert.Zero(t, d.r.Len())
}
