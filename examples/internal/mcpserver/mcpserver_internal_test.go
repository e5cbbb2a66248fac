package mcpserver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apiguard/apiguard/validator"
	"github.com/apiguard/apiguard/validator/validatortest"
)

func TestCalledTools(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"call", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_contacts"}}`, []string{"list_contacts"}},
		{"other method", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, nil},
		{"batch", ` [{"method":"initialize"},{"method":"tools/call","params":{"name":"a"}},{"method":"tools/call","params":{"name":"b"}}]`, []string{"a", "b"}},
		{"not JSON", `tools/call list_contacts`, nil},
		{"truncated", `{"method":"tools/call","params":{"name":"list_con`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, calledTools([]byte(tt.body)))
		})
	}
}

func TestNewChecksConfig(t *testing.T) {
	iss := validatortest.NewIssuer()
	t.Cleanup(iss.Close)
	v, err := validator.New(t.Context(), iss.Config())
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	for name, cfg := range map[string]Config{
		"no validator":   {URL: "http://127.0.0.1:1/mcp", Issuer: "http://i/"},
		"no issuer":      {URL: "http://127.0.0.1:1/mcp", Validator: v},
		"relative URL":   {URL: "/mcp", Issuer: "http://i/", Validator: v},
		"URL with query": {URL: "http://127.0.0.1:1/mcp?x", Issuer: "http://i/", Validator: v},
	} {
		_, err := New(cfg)
		assert.Error(t, err, name)
	}
	_, err = New(Config{URL: "http://127.0.0.1:1/mcp", Issuer: "http://i/", Validator: v})
	assert.NoError(t, err)
}
