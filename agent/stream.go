package agent

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// stream is one operation on a session: its flow-control windows, the host's input waiting for the
// op, and the host's control events.
type stream struct {
	id       uint32
	s        *session
	stopped  chan struct{} // closed on the host's CLOSE, the end of the session, or the end of the op
	stopOnce sync.Once

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever credit or inbox change
	credit   int64         // bytes the agent may still send
	recvLeft int64         // bytes the host may still send
	inbox    [][]byte
	inEOF    bool
	control  func(json.RawMessage) // handles the host's EVENTs; while nil they wait in pending
	pending  []json.RawMessage
}

func newStream(s *session, id uint32) *stream {
	return &stream{id: id, s: s, stopped: make(chan struct{}),
		changed: make(chan struct{}), credit: InitialWindow, recvLeft: InitialWindow}
}

func (st *stream) stop() { st.stopOnce.Do(func() { close(st.stopped) }) }

func (st *stream) isStopped() bool {
	select {
	case <-st.stopped:
		return true
	default:
		return false
	}
}

func (st *stream) changedLocked() {
	close(st.changed)
	st.changed = make(chan struct{})
}

// receive queues host input; the host must not exceed the window it was given.
func (st *stream) receive(p []byte) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.recvLeft -= int64(len(p))
	if st.recvLeft < 0 {
		return protocolError(fmt.Sprintf("stream %d: host sent DATA beyond its window", st.id))
	}
	if len(p) > 0 {
		st.inbox = append(st.inbox, p)
		st.changedLocked()
	}
	return nil
}

func (st *stream) receiveEOF() {
	st.mu.Lock()
	st.inEOF = true
	st.changedLocked()
	st.mu.Unlock()
}

func (st *stream) addCredit(n uint32) {
	st.mu.Lock()
	st.credit += int64(n)
	st.changedLocked()
	st.mu.Unlock()
}

// pushEvent hands a host EVENT to the op as soon as it arrives, so that it takes effect before any
// input that follows it, and a signal does not wait behind input the process has not read yet.
func (st *stream) pushEvent(p []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.control != nil {
		st.control(p)
	} else {
		st.pending = append(st.pending, p)
	}
}

// handleEvents makes h (called with the stream locked) receive the host's EVENTs, starting with those
// that came earlier; nil stops the delivery.
func (st *stream) handleEvents(h func(json.RawMessage)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.control = h
	for _, p := range st.pending {
		if h != nil {
			h(p)
		}
	}
	st.pending = nil
}

// wait blocks, with mu held on entry and on return, until ready() or the stream stops.
func (st *stream) wait(ready func() bool) error {
	for !ready() {
		ch := st.changed
		st.mu.Unlock()
		select {
		case <-ch:
		case <-st.stopped:
			st.mu.Lock()
			return errStreamStopped
		}
		st.mu.Lock()
	}
	return nil
}

// read returns the next chunk of host input, io.EOF after the host's EOF, errStreamStopped on abort.
// The caller returns credit with consumed once the chunk has reached its final reader.
func (st *stream) read() ([]byte, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.wait(func() bool { return len(st.inbox) > 0 || st.inEOF }); err != nil {
		return nil, err
	}
	if len(st.inbox) == 0 {
		return nil, io.EOF
	}
	p := st.inbox[0]
	st.inbox[0] = nil
	st.inbox = st.inbox[1:]
	return p, nil
}

// consumed gives the host n bytes of window back.
func (st *stream) consumed(n int) {
	st.mu.Lock()
	st.recvLeft += int64(n)
	st.mu.Unlock()
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(n))
	_ = st.s.send(Frame{Stream: st.id, Type: FrameWindow, Payload: b[:]}.Encode(), st.stopped)
}

// data sends p on a channel, split into frames and paced by the host's credit.
func (st *stream) data(ch byte, p []byte) error {
	for len(p) > 0 {
		st.mu.Lock()
		if err := st.wait(func() bool { return st.credit > 0 }); err != nil {
			st.mu.Unlock()
			return err
		}
		n := len(p)
		if n > MaxData {
			n = MaxData
		}
		if int64(n) > st.credit {
			n = int(st.credit)
		}
		st.credit -= int64(n)
		st.mu.Unlock()
		if err := st.s.send(Frame{Stream: st.id, Type: FrameData, Channel: ch, Payload: p[:n]}.Encode(), st.stopped); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

func (st *stream) eof(ch byte) error {
	return st.s.send(Frame{Stream: st.id, Type: FrameEOF, Channel: ch}.Encode(), st.stopped)
}

// event sends an EVENT; events must stay below MaxFrame (see list for long answers).
func (st *stream) event(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only the agent's own types are marshalled
	}
	return st.s.send(Frame{Stream: st.id, Type: FrameEvent, Payload: b}.Encode(), nil)
}

func (st *stream) fail(code, msg string) {
	if len(msg) > 8192 {
		msg = msg[:8192]
	}
	st.event(map[string]string{"type": "error", "code": code, "message": msg})
}

func (st *stream) failErr(err error) { st.fail(errorCode(err), err.Error()) }

// finish ends the op: the stream's goroutines stop and the host gets the final CLOSE.
func (st *stream) finish() {
	st.stop()
	st.s.remove(st.id)
	_ = st.s.send(Frame{Stream: st.id, Type: FrameClose}.Encode(), nil)
}
