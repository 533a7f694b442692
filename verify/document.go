package verify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxDocument bounds a discovery, JWKS or introspection response body.
const maxDocument = 1 << 20

// getDocument GETs a JSON document and returns its body, at most
// maxDocument bytes, when the status is 200.
func getDocument(ctx context.Context, hc *http.Client, uri string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := readBody(resp)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s: status %d", uri, resp.StatusCode)
	}
	return body, resp.Header, nil
}

// readBody reads a response body of at most maxDocument bytes.
func readBody(resp *http.Response) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxDocument {
		return nil, fmt.Errorf("response larger than %d bytes", maxDocument)
	}
	return body, nil
}

// cacheMaxAge reads the max-age of a Cache-Control header; no-store and
// no-cache count as 0.
func cacheMaxAge(h http.Header) (time.Duration, bool) {
	for _, field := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(field, ",") {
			d = strings.ToLower(strings.TrimSpace(d))
			switch {
			case d == "no-store" || d == "no-cache":
				return 0, true
			case strings.HasPrefix(d, "max-age="):
				n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(d, "max-age="), `"`), 10, 64)
				if err == nil && n >= 0 && n < 1<<31 {
					return time.Duration(n) * time.Second, true
				}
			}
		}
	}
	return 0, false
}
