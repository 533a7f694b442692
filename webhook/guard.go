package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrAddressRefused is returned when a webhook URL names, or its host
// resolves to, an address webhooks may not reach.
var ErrAddressRefused = errors.New("the address is loopback, private, link-local or otherwise not public")

// Guard decides which addresses webhooks may reach (server-side request
// forgery): loopback, private, link-local (cloud metadata services
// included), shared, unspecified and multicast addresses are refused
// unless AllowPrivate. A URL is checked when an endpoint is created or
// changed, and again at each delivery, on the address actually dialled
// after DNS resolution: a name that resolves elsewhere later gains
// nothing.
type Guard struct {
	AllowPrivate bool
	// Resolve resolves a host name to its addresses
	// (net.DefaultResolver.LookupNetIP when nil); tests set it.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// refusedPrefixes are the ranges beyond netip's classes that are not the
// public internet: "this network", shared address space (RFC 6598, where
// some clouds put their metadata service), IETF protocol assignments,
// benchmarking, the IPv4 broadcast address, and NAT64 and discard-only
// IPv6.
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("255.255.255.255/32"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("100::/64"),
}

// Allowed reports whether a webhook may be delivered to ip.
func (g Guard) Allowed(ip netip.Addr) bool {
	if g.AllowPrivate {
		return true
	}
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range refusedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// URLError is a webhook URL refused, and why.
type URLError struct{ Reason string }

func (e *URLError) Error() string { return e.Reason }

// CheckURL checks a webhook endpoint's URL: absolute http or https, a
// host, no user information or fragment, and (unless AllowPrivate) every
// address its host resolves to allowed. A name that does not resolve is
// refused too: it could not be delivered to.
func (g Guard) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return &URLError{"is not a URL"}
	case u.Scheme != "http" && u.Scheme != "https":
		return &URLError{"must be an http or https URL"}
	case u.Hostname() == "":
		return &URLError{"must name a host"}
	case u.User != nil:
		return &URLError{"must not hold user information"}
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return &URLError{"must not have a fragment"}
	}
	if g.AllowPrivate {
		return nil
	}
	addrs, err := g.resolve(ctx, u.Hostname())
	if err != nil {
		return &URLError{"names a host that does not resolve"}
	}
	for _, a := range addrs {
		if !g.Allowed(a) {
			return &URLError{fmt.Sprintf("resolves to %s: %v", a.Unmap(), ErrAddressRefused)}
		}
	}
	return nil
}

// resolve returns host's addresses: host itself when it is an address.
func (g Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	lookup := g.Resolve
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	addrs, err := lookup(ctx, host)
	if err == nil && len(addrs) == 0 {
		err = fmt.Errorf("no address for %s", host)
	}
	return addrs, err
}

// DialContext resolves addr's host with Resolve and dials its addresses
// in turn through a net.Dialer whose Control hook refuses, on the very
// address being connected to, what Allowed refuses.
func (g Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	addrs, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		if !g.Allowed(ap.Addr()) {
			return fmt.Errorf("dial %s: %w", ap.Addr(), ErrAddressRefused)
		}
		return nil
	}}
	var first error
	for _, a := range addrs {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}
