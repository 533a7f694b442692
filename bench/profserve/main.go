// Command profserve is gatehouse's server with net/http/pprof beside it,
// for profiling under the load benchmark (`go run ./bench/loadgen
// -profile DIR` builds and starts it instead of `gatehouse serve`). It
// wires gatehouse.Open as `gatehouse serve` does, with serve's defaults
// except the rate limit, which is off as the benchmark wants; pprof listens
// on its own address so the served API is unchanged.
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/webhook"
)

func main() {
	db := flag.String("db", "./gatehouse.db", "the SQLite database file")
	addr := flag.String("addr", "127.0.0.1:8080", "the API's address")
	pprofAddr := flag.String("pprof-addr", "127.0.0.1:6060", "net/http/pprof's address")
	adminPassword := flag.String("admin-password", "", "the administrator's password")
	queueWait := flag.Duration("hash-queue-wait", 5*time.Second, "longest wait for a hashing slot")
	contention := flag.Bool("contention", true, "record the block and mutex profiles (a blocking event of 10 µs or more, one mutex contention in 10)")
	flag.Parse()
	if *contention {
		runtime.SetBlockProfileRate(int((10 * time.Microsecond).Nanoseconds()))
		runtime.SetMutexProfileFraction(10)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	inst, err := gatehouse.Open(ctx, gatehouse.Options{DB: *db, HashQueueWait: *queueWait, Logger: logger,
		// The load benchmark's webhook receiver is on loopback.
		Webhooks: webhook.Config{Guard: webhook.Guard{AllowPrivate: true}}})
	if err != nil {
		log.Fatal(err)
	}
	defer inst.Close()
	if _, err := inst.Service.EnsureAdmin(ctx, auth.Admin{Username: "admin", Password: *adminPassword}); err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() { log.Println(http.ListenAndServe(*pprofAddr, mux)) }()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler: inst.Handler, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var background sync.WaitGroup
	background.Go(func() { inst.Service.WatchSigningKeys(bg, 30*time.Second) })
	background.Go(func() { inst.Service.WatchAPIKeyUsage(bg, 10*time.Second) })
	background.Go(func() { inst.Webhooks.Run(bg) })
	logger.Info("profserve listening", "addr", "http://"+ln.Addr().String(), "pprof", "http://"+*pprofAddr+"/debug/pprof/")
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Print(err)
	}
	stopBG()
	background.Wait()
}
