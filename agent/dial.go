package agent

import (
	"errors"
	"io"
	"net"
	"strconv"
	"time"
)

type dialRequest struct {
	Host string `json:"host"`
	Port int    `json:"port"`
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
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(req.Host, strconv.Itoa(req.Port)), dialTimeout)
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
