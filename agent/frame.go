package agent

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Frame types, see docs/agent-protocol.md.
const (
	FrameHello  byte = 1
	FrameOpen   byte = 2
	FrameEvent  byte = 3
	FrameData   byte = 4
	FrameEOF    byte = 5
	FrameWindow byte = 6
	FrameClose  byte = 7
)

// Channels of DATA and EOF frames.
const (
	ChanIn  byte = 0 // stdin / request body, host to agent
	ChanOut byte = 1 // stdout / response body
	ChanErr byte = 2 // stderr
)

const (
	HeaderSize = 10
	MaxPayload = 65536
	// MaxFrame bounds every frame the agent sends, header included. The guest's virtio-serial driver
	// takes at most 32 KiB per write, so a frame is then exactly one write: it is never split between
	// two host connections, and streams interleave fairly.
	MaxFrame      = 32768
	MaxData       = MaxFrame - HeaderSize
	InitialWindow = 262144
)

// Frame is one unit on the wire: a 10-byte header and a payload.
type Frame struct {
	Stream  uint32
	Type    byte
	Channel byte
	Payload []byte
}

// Encode returns header and payload in one buffer, to be written with a single Write.
func (f Frame) Encode() []byte {
	b := make([]byte, HeaderSize+len(f.Payload))
	putHeader(b, f.Stream, f.Type, f.Channel, len(f.Payload))
	copy(b[HeaderSize:], f.Payload)
	return b
}

func putHeader(b []byte, stream uint32, typ, channel byte, length int) {
	binary.BigEndian.PutUint32(b[0:4], stream)
	b[4] = typ
	b[5] = channel
	binary.BigEndian.PutUint32(b[6:10], uint32(length))
}

func parseHeader(h []byte) (f Frame, length uint32) {
	return Frame{Stream: binary.BigEndian.Uint32(h[0:4]), Type: h[4], Channel: h[5]},
		binary.BigEndian.Uint32(h[6:10])
}

// ReadFrame reads one frame. It returns io.EOF only at a frame boundary, io.ErrUnexpectedEOF when the
// stream ends inside a frame.
func ReadFrame(r io.Reader) (Frame, error) {
	var h [HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Frame{}, err
	}
	f, n := parseHeader(h[:])
	if n > MaxPayload {
		return Frame{}, fmt.Errorf("frame payload of %d bytes exceeds %d", n, MaxPayload)
	}
	f.Payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	return f, nil
}
