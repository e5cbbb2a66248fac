package e2e_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/apiguard/apiguard/examples/internal/stack"
)

// chromiumPath is Debian's chromium package.
const chromiumPath = "/usr/bin/chromium"

// newChromium starts headless Chromium for one test, with a fresh profile
// and every outside network lookup disabled: only loopback resolves.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("APIGUARD_REQUIRE_BROWSER") == "1" {
			t.Fatalf("APIGUARD_REQUIRE_BROWSER=1 but %s is missing: apt-get install -y chromium", chromiumPath)
		}
		t.Skipf("%s not installed (apt-get install -y chromium); set APIGUARD_REQUIRE_BROWSER=1 to make this a failure", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,AutofillServerCommunication,OptimizationHints,MediaRouter,NetworkTimeServiceQuerying"),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout (that
	// would stop the browser when it fires), so the test bounds it instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting Chromium: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Chromium did not start within 30s")
	}
	return ctx
}

// screenshotOnFailure saves a screenshot when the test has failed and logs
// where.
func screenshotOnFailure(t *testing.T, ctx context.Context) {
	t.Helper()
	if !t.Failed() {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	dir := os.Getenv("APIGUARD_SCREENSHOTS") // e.g. examples/screenshots, gitignored
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	t.Logf("screenshot of the failure: %s", path)
}

// TestRealBrowser signs in with headless Chromium: it clicks "Sign in",
// fills the login form, consents, lands back on the web app and reads the
// API's answer on the page.
func TestRealBrowser(t *testing.T) {
	st := startStack(t, stack.Options{})
	ctx := newChromium(t)
	defer screenshotOnFailure(t, ctx)

	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(tctx, signInAsAlice(st)...)
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	loc, err := chromedp.Run(tctx, chromedp.Location())
	if err != nil || loc != st.WebAppURL+"/" {
		t.Errorf("landed on %q (%v), want the web app's home", loc, err)
	}
	name, err := chromedp.Run(tctx, chromedp.Text(chromedp.ID("user-name")))
	if err != nil || name != "Alice Liddell" {
		t.Errorf("user name %q (%v)", name, err)
	}

	tests := []struct{ endpoint, status, contains string }{
		{"contacts", "200", "Ada Lovelace"},
		{"claims", "200", `"auth0|alice"`},
	}
	for _, tt := range tests {
		if err := chromedp.Do(tctx,
			chromedp.Navigate(st.WebAppURL+"/"),
			chromedp.Click(chromedp.ID("call-"+tt.endpoint)),
			chromedp.WaitVisible(chromedp.ID("api-result")),
		); err != nil {
			t.Fatalf("calling /api/%s: %v", tt.endpoint, err)
		}
		status, _ := chromedp.Run(tctx, chromedp.Text(chromedp.ID("api-status")))
		result, _ := chromedp.Run(tctx, chromedp.Text(chromedp.ID("api-result")))
		if status != tt.status || !strings.Contains(result, tt.contains) {
			t.Errorf("/api/%s on the page: %s %s", tt.endpoint, status, result)
		}
	}

	// Tokens stay on the server: the page's cookies hold a session ID only.
	cookies, err := chromedp.Run(tctx, chromedp.Evaluate[string]("document.cookie"))
	if err != nil || cookies != "" {
		t.Errorf("cookies visible to scripts: %q (%v)", cookies, err)
	}
}

// TestRealBrowserStepUp: in headless Chromium, /api/mfa first refuses the
// password-only sign-in; the web app sends the browser to devauth's second
// factor, the test types the one-time code shown there, and the call made
// again answers 200.
func TestRealBrowserStepUp(t *testing.T) {
	st := startStack(t, stack.Options{})
	ctx := newChromium(t)
	defer screenshotOnFailure(t, ctx)

	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, append(signInAsAlice(st),
		chromedp.Click(chromedp.ID("call-mfa")),
		chromedp.WaitVisible(chromedp.ID("otp")),
	)...); err != nil {
		t.Fatalf("sign-in and step-up challenge: %v", err)
	}
	code, err := chromedp.Run(tctx, chromedp.Text(chromedp.ID("otp-code")))
	if err != nil || len(code) != 6 {
		t.Fatalf("one-time code %q (%v)", code, err)
	}
	if err := chromedp.Do(tctx,
		chromedp.SendKeys(chromedp.ID("otp"), code),
		chromedp.Click(chromedp.ID("verify")),
		chromedp.WaitVisible(chromedp.ID("api-status")),
	); err != nil {
		t.Fatalf("second factor: %v", err)
	}
	status, _ := chromedp.Run(tctx, chromedp.Text(chromedp.ID("api-status")))
	result, _ := chromedp.Run(tctx, chromedp.Text(chromedp.ID("api-result")))
	path, _ := chromedp.Run(tctx, chromedp.Text(chromedp.ID("api-path")))
	if status != "200" || path != "/api/mfa" || !strings.Contains(result, "step-up") {
		t.Errorf("after the step-up: %s %s %s", path, status, result)
	}
}

// signInAsAlice are the browser steps from the web app's home page through
// devauth's login and consent back to the signed-in page.
func signInAsAlice(st *stack.Stack) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(st.WebAppURL + "/"),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), stack.Alice.Username),
		chromedp.SendKeys(chromedp.ID("password"), stack.Alice.Password),
		chromedp.Click(chromedp.ID("login")),
		chromedp.Click(chromedp.ID("consent-accept")),
		chromedp.WaitVisible(chromedp.ID("welcome")),
	}
}
