package agent

import (
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkPath accepts only absolute, clean paths.
func checkPath(p string) error {
	if p == "" || !filepath.IsAbs(p) || filepath.Clean(p) != p {
		return &opError{"EINVAL", "path must be absolute and clean: " + quote(p)}
	}
	return nil
}

type fileRequest struct {
	Path      string  `json:"path"`
	Mode      *uint32 `json:"mode"`
	Mkdirs    bool    `json:"mkdirs"`
	Parents   bool    `json:"parents"`
	Recursive bool    `json:"recursive"`
	From      string  `json:"from"`
	To        string  `json:"to"`
}

func (r *fileRequest) mode(def os.FileMode) os.FileMode {
	if r.Mode == nil {
		return def
	}
	return os.FileMode(*r.Mode) & os.ModePerm
}

// decodeFileRequest parses the request and checks the paths the op uses.
func decodeFileRequest(st *stream, raw []byte, paths func(*fileRequest) []string) (*fileRequest, bool) {
	var req fileRequest
	if !decode(st, raw, &req) {
		return nil, false
	}
	for _, p := range paths(&req) {
		if err := checkPath(p); err != nil {
			st.failErr(err)
			return nil, false
		}
	}
	return &req, true
}

func onePath(r *fileRequest) []string { return []string{r.Path} }

// writeFile streams the host's content into a temporary file beside the target and renames it over
// the target on EOF, so nobody sees half a file and an aborted upload leaves nothing behind.
func (a *Agent) writeFile(st *stream, raw []byte) {
	req, ok := decodeFileRequest(st, raw, onePath)
	if !ok {
		return
	}
	dir := filepath.Dir(req.Path)
	if req.Mkdirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			st.failErr(err)
			return
		}
	}
	old, err := os.Stat(req.Path)
	if err == nil && old.IsDir() {
		st.failErr(&fs.PathError{Op: "write", Path: req.Path, Err: syscall.EISDIR})
		return
	}
	if err == nil {
		if err := notRegular("write", req.Path, old); err != nil {
			st.failErr(err)
			return
		}
	}
	base := filepath.Base(req.Path)
	if len(base) > 200 {
		base = base[:200] // the temporary name must fit NAME_MAX too
	}
	tmp, err := os.CreateTemp(dir, "."+base+".createos-*")
	if err != nil {
		st.failErr(err)
		return
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	err = tmp.Chmod(req.mode(0o644))
	if sys, ok := statT(old); ok && err == nil { // a replaced file keeps its owner
		err = tmp.Chown(int(sys.Uid), int(sys.Gid))
	}
	if err != nil {
		st.failErr(err)
		return
	}
	var size int64
	for {
		b, err := st.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return // aborted: roll back
		}
		if _, err := tmp.Write(b); err != nil {
			st.failErr(err)
			return
		}
		size += int64(len(b))
		st.consumed(len(b))
	}
	if err := tmp.Sync(); err != nil {
		st.failErr(err)
		return
	}
	if err := tmp.Close(); err != nil {
		st.failErr(err)
		return
	}
	if err := os.Rename(tmp.Name(), req.Path); err != nil {
		st.failErr(err)
		return
	}
	committed = true
	st.event(map[string]any{"type": "ok", "size": size})
}

// readFile streams a file to the host, paced by the host's credit.
func (a *Agent) readFile(st *stream, raw []byte) {
	req, ok := decodeFileRequest(st, raw, onePath)
	if !ok {
		return
	}
	f, err := os.Open(req.Path)
	if err != nil {
		st.failErr(err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		err = &fs.PathError{Op: "read", Path: req.Path, Err: syscall.EISDIR}
	} else if err == nil {
		err = notRegular("read", req.Path, fi)
	}
	if err != nil {
		st.failErr(err)
		return
	}
	if isPseudoFile(f) {
		content, err := readPseudo(f, req.Path)
		if err != nil {
			st.failErr(err)
			return
		}
		st.event(map[string]any{"type": "ok", "size": len(content), "mode": uint32(fi.Mode().Perm())})
		if len(content) > 0 && st.data(ChanOut, content) != nil {
			return
		}
		st.eof(ChanOut)
		return
	}
	st.event(map[string]any{"type": "ok", "size": fi.Size(), "mode": uint32(fi.Mode().Perm())})
	buf := make([]byte, MaxData)
	for {
		n, err := f.Read(buf)
		if n > 0 && st.data(ChanOut, buf[:n]) != nil {
			return
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			st.failErr(err)
			return
		}
	}
	st.eof(ChanOut)
}

func statT(fi fs.FileInfo) (*syscall.Stat_t, bool) {
	if fi == nil {
		return nil, false
	}
	sys, ok := fi.Sys().(*syscall.Stat_t)
	return sys, ok
}

// fileStat is STAT in the protocol.
type fileStat struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	Mode    uint32 `json:"mode"`
	Type    string `json:"type"`
	MtimeMs int64  `json:"mtime_ms"`
}

func newFileStat(path string, fi fs.FileInfo) fileStat {
	typ := "other"
	switch {
	case fi.Mode().IsRegular():
		typ = "file"
	case fi.IsDir():
		typ = "dir"
	case fi.Mode()&fs.ModeSymlink != 0:
		typ = "symlink"
	}
	return fileStat{Name: filepath.Base(path), Path: path, Size: fi.Size(), Mode: uint32(fi.Mode().Perm()),
		Type: typ, MtimeMs: fi.ModTime().UnixMilli()}
}

func (a *Agent) stat(st *stream, raw []byte) {
	req, ok := decodeFileRequest(st, raw, onePath)
	if !ok {
		return
	}
	fi, err := os.Lstat(req.Path)
	if err != nil {
		st.failErr(err)
		return
	}
	st.event(map[string]any{"type": "ok", "stat": newFileStat(req.Path, fi)})
}

// listBatch keeps each EVENT of a listing well below MaxFrame.
const listBatch = 24 << 10

// list sends the entries sorted by name; a long listing comes in several "entries" events before the
// "ok" that carries the last of them.
func (a *Agent) list(st *stream, raw []byte) {
	req, ok := decodeFileRequest(st, raw, onePath)
	if !ok {
		return
	}
	entries, err := os.ReadDir(req.Path)
	if err != nil {
		st.failErr(err)
		return
	}
	batch, size := []fileStat{}, 0
	for _, e := range entries {
		if st.isStopped() {
			return
		}
		path := filepath.Join(req.Path, e.Name())
		fi, err := os.Lstat(path)
		if err != nil {
			continue // removed meanwhile
		}
		s := newFileStat(path, fi)
		b, _ := json.Marshal(s)
		if size+len(b) > listBatch {
			st.event(map[string]any{"type": "entries", "entries": batch})
			batch, size = nil, 0
		}
		batch, size = append(batch, s), size+len(b)+1
	}
	if batch == nil {
		batch = []fileStat{}
	}
	st.event(map[string]any{"type": "ok", "entries": batch})
}

func (a *Agent) mkdir(st *stream, raw []byte) {
	req, ok := decodeFileRequest(st, raw, onePath)
	if !ok {
		return
	}
	mkdir := os.Mkdir
	if req.Parents {
		mkdir = os.MkdirAll
	}
	if err := mkdir(req.Path, req.mode(0o755)); err != nil {
		st.failErr(err)
		return
	}
	st.event(map[string]string{"type": "ok"})
}

func (a *Agent) remove(st *stream, raw []byte) {
	req, ok := decodeFileRequest(st, raw, onePath)
	if !ok {
		return
	}
	_, err := os.Lstat(req.Path)
	if err == nil && req.Recursive {
		err = os.RemoveAll(req.Path)
	} else if err == nil {
		err = os.Remove(req.Path)
	}
	if err != nil {
		st.failErr(err)
		return
	}
	st.event(map[string]string{"type": "ok"})
}

func (a *Agent) rename(st *stream, raw []byte) {
	req, ok := decodeFileRequest(st, raw, func(r *fileRequest) []string { return []string{r.From, r.To} })
	if !ok {
		return
	}
	if err := os.Rename(req.From, req.To); err != nil {
		st.failErr(err)
		return
	}
	st.event(map[string]string{"type": "ok"})
}
