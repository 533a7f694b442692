package impl

import (
	"bytes"
	"context"
	"io/fs"
	"path"

	"github.com/gatehouse-auth/gatehouse/console"
	"github.com/gatehouse-auth/gatehouse/gen/api"
)

// ConsoleCSP is the console's Content-Security-Policy: its own origin
// only, no inline script or style, no eval, no framing.
const ConsoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// consoleFile reads one file of the console's build.
func (h *Handlers) consoleFile(name string) ([]byte, error) {
	if h.cfg.NoConsole {
		return nil, &Error{Kind: KindNotFound, Detail: "the console is switched off"}
	}
	b, err := fs.ReadFile(console.Dist(), name)
	if err != nil {
		return nil, &Error{Kind: KindNotFound, Detail: "no such asset"}
	}
	return b, nil
}

// GetConsole serves the console's page.
func (h *Handlers) GetConsole(ctx context.Context, _ api.GetConsoleRequestObject) (api.GetConsoleResponseObject, error) {
	b, err := h.consoleFile("index.html")
	if err != nil {
		return nil, err
	}
	return api.GetConsole200TexthtmlResponse{Body: bytes.NewReader(b), ContentLength: int64(len(b)),
		Headers: api.GetConsole200ResponseHeaders{ContentSecurityPolicy: ConsoleCSP, XFrameOptions: "DENY"}}, nil
}

// GetConsoleAsset serves a script, a style sheet or the page.
func (h *Handlers) GetConsoleAsset(ctx context.Context, req api.GetConsoleAssetRequestObject) (api.GetConsoleAssetResponseObject, error) {
	b, err := h.consoleFile(req.Asset)
	if err != nil {
		return nil, err
	}
	headers := api.GetConsoleAsset200ResponseHeaders{ContentSecurityPolicy: ConsoleCSP, XFrameOptions: "DENY"}
	body, n := bytes.NewReader(b), int64(len(b))
	switch path.Ext(req.Asset) {
	case ".js":
		return api.GetConsoleAsset200TextjavascriptResponse{Body: body, ContentLength: n, Headers: headers}, nil
	case ".css":
		return api.GetConsoleAsset200TextcssResponse{Body: body, ContentLength: n, Headers: headers}, nil
	case ".html":
		return api.GetConsoleAsset200TexthtmlResponse{Body: body, ContentLength: n, Headers: headers}, nil
	}
	return nil, &Error{Kind: KindNotFound, Detail: "no such asset"}
}
