// agent-hello connects to a guest agent's Unix socket (QEMU's end of the createos.agent virtio-serial port),
// performs the HELLO exchange of docs/agent-protocol.md and prints the agent's HELLO payload. The boot smoke
// test uses it to prove that a kit boots all the way to a serving agent.
//
// Usage: agent-hello SOCKET TIMEOUT   (TIMEOUT as a Go duration, e.g. 60s)
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

const (
	frameHello  = 1
	headerBytes = 10
	maxPayload  = 65536
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: agent-hello SOCKET TIMEOUT")
		os.Exit(2)
	}
	timeout, err := time.ParseDuration(os.Args[2])
	if err != nil {
		fmt.Fprintf(os.Stderr, "agent-hello: bad timeout %q: %v\n", os.Args[2], err)
		os.Exit(2)
	}
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		payload, err := hello(os.Args[1], deadline)
		if err == nil {
			fmt.Println(string(payload))
			return
		}
		var protocolErr protocolError
		if errors.As(err, &protocolErr) {
			fmt.Fprintf(os.Stderr, "agent-hello: %v\n", err)
			os.Exit(1)
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "agent-hello: no HELLO from the agent on %s within %s: %v\n", os.Args[1], timeout, lastErr)
	os.Exit(1)
}

// protocolError is an answer that breaks the protocol: retrying cannot help.
type protocolError string

func (e protocolError) Error() string { return "protocol error: " + string(e) }

// hello sends the host's HELLO and returns the agent's HELLO payload once it arrives.
func hello(socket string, deadline time.Time) ([]byte, error) {
	conn, err := net.DialTimeout("unix", socket, time.Until(deadline))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, err
	}
	body, _ := json.Marshal(map[string]any{"magic": "createos-agent", "version": 1})
	frame := make([]byte, headerBytes+len(body))
	frame[4] = frameHello
	binary.BigEndian.PutUint32(frame[6:], uint32(len(body)))
	copy(frame[headerBytes:], body)
	if _, err := conn.Write(frame); err != nil {
		return nil, err
	}
	// Frames before the HELLO answer may be left over from an earlier connection: skip them.
	header := make([]byte, headerBytes)
	var payload []byte
	for {
		if _, err := io.ReadFull(conn, header); err != nil {
			return nil, err
		}
		length := binary.BigEndian.Uint32(header[6:])
		if length > maxPayload {
			return nil, protocolError(fmt.Sprintf("frame of %d bytes exceeds the limit of %d", length, maxPayload))
		}
		payload = make([]byte, length)
		if _, err := io.ReadFull(conn, payload); err != nil {
			return nil, err
		}
		if binary.BigEndian.Uint32(header[0:]) == 0 && header[4] == frameHello {
			break
		}
	}
	var answer struct {
		Magic   string `json:"magic"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(payload, &answer); err != nil {
		return nil, protocolError(fmt.Sprintf("HELLO payload is not JSON: %v", err))
	}
	if answer.Magic != "createos-agent" || answer.Version != 1 {
		return nil, protocolError("HELLO answer with a wrong magic or version: " + string(payload))
	}
	return payload, nil
}
