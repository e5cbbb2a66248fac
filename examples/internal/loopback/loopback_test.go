package loopback

import "testing"

func TestListen(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"localhost:0", true},
		{"127.0.0.2:0", true},
		{":0", false},
		{"0.0.0.0:0", false},
		{"[::]:0", false},
		{"10.0.0.1:0", false},
		{"example.com:0", false},
		{"127.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			l, err := Listen(tt.addr)
			if err == nil {
				l.Close()
			}
			if (err == nil) != tt.ok {
				t.Errorf("Listen(%q) error = %v, want ok=%v", tt.addr, err, tt.ok)
			}
		})
	}
}

func TestIsLoopbackURL(t *testing.T) {
	tests := map[string]bool{
		"http://localhost:3000/callback": true,
		"http://127.0.0.1:3000/":         true,
		"http://[::1]:3000/":             true,
		"https://example.com/":           false,
		"ftp://127.0.0.1/":               false,
		"http://0.0.0.0:3000/":           false,
		"::":                             false,
	}
	for u, want := range tests {
		if got := IsLoopbackURL(u); got != want {
			t.Errorf("IsLoopbackURL(%q) = %v, want %v", u, got, want)
		}
	}
}
