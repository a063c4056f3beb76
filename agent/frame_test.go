package agent

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"testing"
)

func TestFrameEncodingIsBigEndianWithTenByteHeader(t *testing.T) {
	got := Frame{Stream: 0x01020304, Type: FrameData, Channel: ChanErr, Payload: []byte("hi")}.Encode()
	if want := "0102030404020000000268 69"; hex.EncodeToString(got) != stripSpaces(want) {
		t.Fatalf("encoded %x, want %s", got, want)
	}
}

func TestFramesRoundTrip(t *testing.T) {
	frames := []Frame{
		{Stream: 0, Type: FrameHello, Payload: []byte(`{"magic":"createos-agent"}`)},
		{Stream: 7, Type: FrameEOF, Channel: ChanOut, Payload: []byte{}},
		{Stream: 1 << 31, Type: FrameData, Payload: bytes.Repeat([]byte{0xAB}, MaxPayload)},
	}
	var buf bytes.Buffer
	for _, f := range frames {
		buf.Write(f.Encode())
	}
	for _, want := range frames {
		got, err := ReadFrame(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if got.Stream != want.Stream || got.Type != want.Type || got.Channel != want.Channel ||
			!bytes.Equal(got.Payload, want.Payload) {
			t.Fatalf("read %+v, want %+v", got, want)
		}
	}
	if _, err := ReadFrame(&buf); err != io.EOF {
		t.Fatalf("at the end: %v, want EOF", err)
	}
}

func TestReadFrameRejectsOversizedAndTruncatedFrames(t *testing.T) {
	big := Frame{Type: FrameData, Payload: make([]byte, MaxPayload+1)}.Encode()
	if _, err := ReadFrame(bytes.NewReader(big)); err == nil {
		t.Fatal("accepted a payload above 65536 bytes")
	}
	cut := Frame{Type: FrameData, Payload: []byte("hello")}.Encode()
	if _, err := ReadFrame(bytes.NewReader(cut[:12])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated payload: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader(cut[:4])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated header: %v", err)
	}
}

func stripSpaces(s string) string { return string(bytes.ReplaceAll([]byte(s), []byte(" "), nil)) }
