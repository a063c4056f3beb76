// Command createos-agent is the guest agent: PID 1 of every sandbox VM, or a protocol server on a
// socket or stdio for tests on the host.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"createos.sh/sandbox/agent"
)

const version = "0.1.0"

const usage = `usage:
  createos-agent                                   as PID 1: guest init, serves the virtio port
  createos-agent serve --listen unix:PATH [--cgroup-root DIR] [--self-listen HOST:PORT]
  createos-agent serve --stdio [--cgroup-root DIR] [--self-listen HOST:PORT]
  createos-agent version`

func main() {
	if len(os.Args) > 2 && os.Args[1] == agent.ShimArg {
		agent.RunShim(os.Args[2]) // never returns
	}
	logger := log.New(os.Stderr, "createos-agent: ", 0)
	if os.Getpid() == 1 {
		agent.RunInit(version, logger)
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		if err := serve(os.Args[2:], logger); err != nil {
			logger.Print(err)
			os.Exit(1)
		}
	case "version":
		fmt.Println(version)
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
}

func serve(args []string, logger *log.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "", "unix:PATH to accept connections on")
	stdio := fs.Bool("stdio", false, "serve one connection on stdin/stdout")
	cgroupRoot := fs.String("cgroup-root", "", "cgroup v2 directory under which each exec gets its own cgroup")
	selfListen := fs.String("self-listen", "", "HOST:PORT to serve self-signals on (the guest uses "+agent.SelfSignalAddr+")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var cgroups *agent.Cgroups
	if *cgroupRoot != "" {
		var err error
		if cgroups, err = agent.OpenCgroups(*cgroupRoot, logger); err != nil {
			return err
		}
	}
	a := agent.NewAgent(version, agent.NewReaper(false), cgroups, logger)
	if *selfListen != "" {
		if err := a.ListenSelfSignals(*selfListen); err != nil {
			return err
		}
	}
	switch {
	case *stdio && *listen == "":
		return a.ServeConn(stdioConn{os.Stdin, os.Stdout})
	case !*stdio && strings.HasPrefix(*listen, "unix:"):
		return listenUnix(a, strings.TrimPrefix(*listen, "unix:"), logger)
	default:
		return fmt.Errorf("serve needs exactly one of --listen unix:PATH or --stdio\n%s", usage)
	}
}

func listenUnix(a *agent.Agent, path string, logger *log.Logger) error {
	_ = os.Remove(path) // a stale socket of an earlier run
	l, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		l.Close() // removes the socket file
	}()
	logger.Printf("listening on unix:%s", path)
	for {
		conn, err := l.Accept()
		if err != nil {
			return nil
		}
		go func() {
			if err := a.ServeConn(conn); err != nil {
				logger.Printf("connection: %v", err)
			}
		}()
	}
}

type stdioConn struct {
	io.Reader
	io.WriteCloser
}
