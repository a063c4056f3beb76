package agent

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

var (
	errSessionClosed = errors.New("connection closed")
	errStreamStopped = errors.New("stream stopped")
)

// protocolError ends a session: the host broke the protocol.
type protocolError string

func (e protocolError) Error() string { return "protocol error: " + string(e) }

// session is one protocol connection, from the host's HELLO until its byte stream ends (or a new HELLO
// starts the next session). Its streams share one writer goroutine that puts whole frames on the wire.
type session struct {
	agent      *Agent
	w          io.Writer
	out        chan []byte // encoded frames for the writer; unbuffered, so waiting senders take turns
	done       chan struct{}
	writerDone chan struct{}
	handlers   sync.WaitGroup
	helloed    bool
	lastID     uint32 // only touched by the reading goroutine

	mu      sync.Mutex
	closed  bool
	streams map[uint32]*stream
}

func (a *Agent) newSession(w io.Writer) *session {
	s := &session{agent: a, w: w, out: make(chan []byte), done: make(chan struct{}),
		writerDone: make(chan struct{}), streams: map[uint32]*stream{}}
	go s.writeLoop()
	return s
}

func (s *session) writeLoop() {
	defer close(s.writerDone)
	for {
		select {
		case b := <-s.out:
			if _, err := s.w.Write(b); err != nil {
				s.stop()
				return
			}
		case <-s.done:
			return
		}
	}
}

// send queues one encoded frame for the writer. It gives up when the session ends or cancel closes.
func (s *session) send(frame []byte, cancel <-chan struct{}) error {
	select {
	case s.out <- frame:
		return nil
	case <-s.done:
		return errSessionClosed
	case <-cancel:
		return errStreamStopped
	}
}

// stop ends the session and aborts all its streams.
func (s *session) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.done)
	for _, st := range s.streams {
		st.stop()
	}
}

// run serves one session. It answers hello (or first waits for one), then dispatches frames until the
// byte stream ends or breaks the protocol. A new HELLO ends the session; it is returned to start the next.
func (s *session) run(br *bufio.Reader, hello *Frame) (*Frame, error) {
	if hello == nil {
		h, err := awaitHello(br)
		if err != nil {
			return nil, err
		}
		hello = h
	}
	var req helloRequest
	if err := json.Unmarshal(hello.Payload, &req); err != nil || req.Magic != Magic {
		return nil, protocolError("HELLO without magic " + quote(Magic))
	}
	if req.Version != ProtocolVersion {
		s.agent.Log.Printf("host speaks protocol version %d, answering with %d", req.Version, ProtocolVersion)
	}
	if err := s.send(Frame{Type: FrameHello, Payload: s.agent.hello()}.Encode(), nil); err != nil {
		return nil, err
	}
	s.helloed = true
	s.agent.Log.Printf("host connected (uptime %d ms)", uptimeMs())
	for {
		f, err := ReadFrame(br)
		if err != nil {
			return nil, err
		}
		if f.Type == FrameHello && f.Stream == 0 {
			return &f, nil
		}
		if err := s.dispatch(f); err != nil {
			return nil, err
		}
	}
}

// awaitHello skips bytes until a HELLO frame: this resynchronises a virtio-serial port on which a host
// died in the middle of a frame.
func awaitHello(br *bufio.Reader) (*Frame, error) {
	for {
		h, err := br.Peek(HeaderSize)
		if err != nil {
			return nil, err
		}
		f, n := parseHeader(h)
		if f.Stream == 0 && f.Type == FrameHello && f.Channel == 0 && n <= MaxPayload {
			b, err := br.Peek(HeaderSize + int(n))
			if err != nil {
				return nil, err
			}
			var req helloRequest
			if json.Unmarshal(b[HeaderSize:], &req) == nil && req.Magic == Magic {
				f.Payload = append([]byte(nil), b[HeaderSize:]...)
				_, _ = br.Discard(len(b))
				return &f, nil
			}
		}
		_, _ = br.Discard(1)
	}
}

func (s *session) dispatch(f Frame) error {
	if f.Type == FrameOpen {
		return s.open(f)
	}
	s.mu.Lock()
	st := s.streams[f.Stream]
	s.mu.Unlock()
	if st == nil {
		return nil // stream 0, or a stream that already ended: frames in flight are expected
	}
	switch f.Type {
	case FrameData:
		if f.Channel != ChanIn {
			return protocolError(fmt.Sprintf("stream %d: host sent DATA on channel %d", f.Stream, f.Channel))
		}
		return st.receive(f.Payload)
	case FrameEOF:
		st.receiveEOF()
	case FrameWindow:
		if len(f.Payload) != 4 {
			return protocolError(fmt.Sprintf("stream %d: WINDOW payload of %d bytes", f.Stream, len(f.Payload)))
		}
		st.addCredit(binary.BigEndian.Uint32(f.Payload))
	case FrameEvent:
		st.pushEvent(f.Payload)
	case FrameClose:
		st.stop()
	}
	return nil
}

func (s *session) open(f Frame) error {
	if f.Stream <= s.lastID {
		return protocolError(fmt.Sprintf("OPEN of stream %d after stream %d: ids must increase", f.Stream, s.lastID))
	}
	s.lastID = f.Stream
	st := newStream(s, f.Stream)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errSessionClosed
	}
	s.streams[f.Stream] = st
	s.handlers.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.handlers.Done()
		s.agent.handle(st, f.Payload)
		st.finish()
	}()
	return nil
}

func (s *session) remove(id uint32) {
	s.mu.Lock()
	delete(s.streams, id)
	s.mu.Unlock()
}

// ServeConn serves a socket or pipe until its byte stream ends, closes it, and returns once every
// stream of the connection has been aborted and cleaned up.
func (a *Agent) ServeConn(rw io.ReadWriteCloser) error {
	br := bufio.NewReaderSize(rw, HeaderSize+MaxPayload)
	var hello *Frame
	for {
		s := a.newSession(rw)
		next, err := s.run(br, hello)
		if next == nil {
			rw.Close() // also unblocks a writer stuck on a peer that stopped reading
			s.stop()
			<-s.writerDone
			s.handlers.Wait()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		s.stop()
		<-s.writerDone
		hello = next
	}
}

// ServePort serves the virtio-serial port forever. A read of 0 bytes means the host is disconnected:
// the session ends and the port is polled until a host connects and says HELLO.
func (a *Agent) ServePort(port *os.File) {
	br := bufio.NewReaderSize(port, HeaderSize+MaxPayload)
	var hello *Frame
	for {
		s := a.newSession(port)
		next, err := s.run(br, hello)
		s.stop()
		// A frame is one write on the port, so cutting the writer off between frames is safe, and a
		// write blocked on a disconnected host must not reach the next one.
		_ = port.SetWriteDeadline(time.Now())
		<-s.writerDone
		_ = port.SetWriteDeadline(time.Time{})
		hello = next
		switch {
		case next != nil: // the host reconnected before a read could notice that it had gone
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			if s.helloed {
				a.Log.Printf("host disconnected")
			}
			time.Sleep(10 * time.Millisecond)
		default:
			a.Log.Printf("session ended: %v", err)
			time.Sleep(10 * time.Millisecond)
		}
	}
}
