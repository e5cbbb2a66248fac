// Package browser is a small scripted browser for the demo and the tests: an
// http.Client with a cookie jar that follows redirects one hop at a time (so
// each hop can be shown and checked) and submits the HTML forms of the
// example pages.
//
// Its HTML handling is deliberately simple: it understands the markup that
// the example servers write (html/template output with double-quoted
// attributes), not arbitrary HTML.
package browser

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// MaxRedirects bounds how many redirects one navigation follows.
const MaxRedirects = 10

// Hop is one request of a navigation.
type Hop struct {
	Method   string // request method
	URL      string // request URL
	Status   int    // answer's status code
	Location string // the redirect target, for 3xx answers
}

// Page is the final answer of a navigation.
type Page struct {
	URL    *url.URL    // where the page was loaded from
	Status int         // status code
	Header http.Header // response header
	Body   string      // response body, at most 1 MiB
	// Hops are the requests made, redirects included, in order.
	Hops []Hop
}

// Browser navigates with a cookie jar.
type Browser struct {
	// Client does the requests; it never follows redirects itself.
	Client *http.Client
	// OnHop, when set, sees every hop as it happens.
	OnHop func(Hop)
	// StopAt, when set, stops a navigation before it follows a redirect to
	// a URL for which it returns true; the redirect answer is returned.
	// Tests use it to hold the callback URL instead of delivering it.
	StopAt func(*url.URL) bool
}

// New returns a browser with an empty cookie jar and a 10 second timeout
// per request.
func New() *Browser {
	jar, _ := cookiejar.New(nil) // never fails with nil options
	return &Browser{Client: &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Get navigates to rawURL, following redirects.
func (b *Browser) Get(ctx context.Context, rawURL string) (*Page, error) {
	return b.navigate(ctx, http.MethodGet, rawURL, nil)
}

// NoFollow makes one GET request without following a redirect, for
// checking a single hop.
func (b *Browser) NoFollow(ctx context.Context, rawURL string) (*Page, error) {
	return b.do(ctx, http.MethodGet, rawURL, nil)
}

// Submit fills the form with the given id and submits it with the button
// whose id is button (its name and value are sent, as a browser does).
// values override or add fields.
func (b *Browser) Submit(ctx context.Context, p *Page, formID string, values map[string]string, button string) (*Page, error) {
	f, err := p.Form(formID)
	if err != nil {
		return nil, err
	}
	for k, v := range values {
		f.Fields.Set(k, v)
	}
	if button != "" {
		name, value, ok := f.button(button)
		if !ok {
			return nil, fmt.Errorf("browser: form %q has no button %q", formID, button)
		}
		if name != "" {
			f.Fields.Set(name, value)
		}
	}
	action, err := p.URL.Parse(f.Action)
	if err != nil {
		return nil, err
	}
	if f.Method == http.MethodGet {
		action.RawQuery = f.Fields.Encode()
		return b.navigate(ctx, http.MethodGet, action.String(), nil)
	}
	return b.navigate(ctx, http.MethodPost, action.String(), f.Fields)
}

// navigate makes a request and follows up to MaxRedirects redirects. As
// browsers do, 301, 302 and 303 turn into a GET; 307 and 308 keep the
// method and the form.
func (b *Browser) navigate(ctx context.Context, method, rawURL string, form url.Values) (*Page, error) {
	var hops []Hop
	for range MaxRedirects + 1 {
		p, err := b.do(ctx, method, rawURL, form)
		if err != nil {
			return nil, err
		}
		hops = append(hops, p.Hops...)
		loc := p.Header.Get("Location")
		if p.Status < 300 || p.Status > 399 || loc == "" {
			p.Hops = hops
			return p, nil
		}
		next, err := p.URL.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("browser: bad Location %q: %w", loc, err)
		}
		if b.StopAt != nil && b.StopAt(next) {
			p.Hops = hops
			return p, nil
		}
		rawURL = next.String()
		if p.Status != http.StatusTemporaryRedirect && p.Status != http.StatusPermanentRedirect {
			method, form = http.MethodGet, nil
		}
	}
	return nil, errors.New("browser: too many redirects")
}

func (b *Browser) do(ctx context.Context, method, rawURL string, form url.Values) (*Page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// Same-origin form posts carry Origin, as in a browser.
		req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	hop := Hop{Method: method, URL: rawURL, Status: resp.StatusCode, Location: resp.Header.Get("Location")}
	if b.OnHop != nil {
		b.OnHop(hop)
	}
	return &Page{URL: req.URL, Status: resp.StatusCode, Header: resp.Header, Body: string(data), Hops: []Hop{hop}}, nil
}

// Form is a parsed HTML form.
type Form struct {
	Action string     // action attribute, maybe relative
	Method string     // GET or POST
	Fields url.Values // named inputs with their values
	markup string
}

var (
	attrRE  = regexp.MustCompile(`([a-zA-Z][\w-]*)="([^"]*)"`)
	inputRE = regexp.MustCompile(`<input\b[^>]*>`)
	tagRE   = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(tag, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// Form returns the form with the given id.
func (p *Page) Form(id string) (*Form, error) {
	re := regexp.MustCompile(`(?s)(<form\b[^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>)(.*?)</form>`)
	m := re.FindStringSubmatch(p.Body)
	if m == nil {
		return nil, fmt.Errorf("browser: no form %q on %s (status %d)", id, p.URL, p.Status)
	}
	a := attrs(m[1])
	f := &Form{Action: a["action"], Method: strings.ToUpper(a["method"]), Fields: url.Values{}, markup: m[2]}
	if f.Method == "" {
		f.Method = http.MethodGet
	}
	for _, in := range inputRE.FindAllString(m[2], -1) {
		ia := attrs(in)
		if ia["name"] != "" && ia["type"] != "submit" {
			f.Fields.Set(ia["name"], ia["value"])
		}
	}
	return f, nil
}

func (f *Form) button(id string) (name, value string, ok bool) {
	re := regexp.MustCompile(`<button\b[^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>`)
	tag := re.FindString(f.markup)
	if tag == "" {
		return "", "", false
	}
	a := attrs(tag)
	return a["name"], a["value"], true
}

// Text returns the text of the element with the given id, tags stripped and
// entities decoded, or "" if there is none.
func (p *Page) Text(id string) string {
	re := regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9]*)\b[^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>`)
	loc := re.FindStringSubmatchIndex(p.Body)
	if loc == nil {
		return ""
	}
	name := p.Body[loc[2]:loc[3]]
	rest := p.Body[loc[1]:]
	// Find the matching end tag, counting nested elements of the same name.
	depth, end := 1, -1
	for i := 0; i < len(rest) && end < 0; {
		j := strings.Index(rest[i:], "<")
		if j < 0 {
			break
		}
		i += j
		switch {
		case strings.HasPrefix(rest[i:], "</"+name+">"):
			if depth--; depth == 0 {
				end = i
			}
		case strings.HasPrefix(rest[i:], "<"+name+">") || strings.HasPrefix(rest[i:], "<"+name+" "):
			depth++
		}
		i++
	}
	if end < 0 {
		return ""
	}
	// Inline elements vanish; others separate words, as when rendered.
	text := tagRE.ReplaceAllStringFunc(rest[:end], func(tag string) string {
		switch strings.ToLower(tagRE.FindStringSubmatch(tag)[2]) {
		case "a", "b", "code", "em", "i", "span", "strong":
			return ""
		}
		return " "
	})
	return strings.TrimSpace(html.UnescapeString(text))
}

// Has reports whether an element with the given id is on the page.
func (p *Page) Has(id string) bool {
	return strings.Contains(p.Body, `id="`+id+`"`)
}

// Link returns the href of the element with the given id.
func (p *Page) Link(id string) (string, error) {
	re := regexp.MustCompile(`<a\b[^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>`)
	tag := re.FindString(p.Body)
	if tag == "" {
		return "", fmt.Errorf("browser: no link %q on %s", id, p.URL)
	}
	u, err := p.URL.Parse(attrs(tag)["href"])
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// Click follows the link with the given id.
func (b *Browser) Click(ctx context.Context, p *Page, id string) (*Page, error) {
	href, err := p.Link(id)
	if err != nil {
		return nil, err
	}
	return b.Get(ctx, href)
}
