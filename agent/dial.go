package agent

import (
	"errors"
	"io"
	"net"
	"strconv"
	"time"
)

type dialRequest struct {
	Host  string `json:"host"`
	Port  int    `json:"port"`
	Scope string `json:"scope"` // "network": only a listener on a non-loopback address (host is ignored)
}

const dialTimeout = 10 * time.Second

// dial connects to a TCP port in the guest and joins it to the stream: channel 0 flows to the
// connection, channel 1 back; EOF half-closes a direction, CLOSE closes both.
func (a *Agent) dial(st *stream, raw []byte) {
	req := dialRequest{Host: "127.0.0.1"}
	if !decode(st, raw, &req) {
		return
	}
	if req.Port < 1 || req.Port > 65535 {
		st.fail("bad_request", "dial needs a port in 1..65535")
		return
	}
	if req.Port == selfSignalPort {
		st.failErr(errRefused(req.Port))
		return
	}
	conn, err := dialFor(req)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			err = &opError{"EHOSTUNREACH", err.Error()}
		}
		st.failErr(err)
		return
	}
	tcp := conn.(*net.TCPConn)
	defer tcp.Close()
	st.event(map[string]string{"type": "ok"})

	ends := make(chan error, 2) // each direction's end: nil when it ended with an EOF
	go func() { ends <- hostToGuest(st, tcp) }()
	go func() { ends <- guestToHost(st, tcp) }()
	for i := 0; i < 2 && err == nil; i++ {
		select {
		case err = <-ends:
		case <-st.stopped:
			err = errStreamStopped
		}
	}
	if err != nil && !st.isStopped() {
		st.failErr(err)
	}
}

// dialFor connects as the request's scope allows: a network-scoped dial tries each non-loopback
// listener of the port and answers like a refused connection when there is none.
func dialFor(req dialRequest) (net.Conn, error) {
	if req.Scope == "" {
		return net.DialTimeout("tcp", net.JoinHostPort(req.Host, strconv.Itoa(req.Port)), dialTimeout)
	}
	if req.Scope != dialScopeNetwork {
		return nil, &opError{"bad_request", "dial scope must be \"network\" or absent, not " + quote(req.Scope)}
	}
	for _, host := range networkTargets(req.Port) {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(req.Port)), dialTimeout)
		if err == nil {
			return conn, nil
		}
	}
	return nil, errRefused(req.Port)
}

func hostToGuest(st *stream, tcp *net.TCPConn) error {
	for {
		b, err := st.read()
		if err == io.EOF {
			return tcp.CloseWrite()
		}
		if err != nil {
			return err
		}
		if _, err := tcp.Write(b); err != nil {
			return err
		}
		st.consumed(len(b))
	}
}

func guestToHost(st *stream, tcp *net.TCPConn) error {
	buf := make([]byte, MaxData)
	for {
		n, err := tcp.Read(buf)
		if n > 0 {
			if err := st.data(ChanOut, buf[:n]); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return st.eof(ChanOut)
		}
		if err != nil {
			return err
		}
	}
}
