// Reads Suyuan's log as c2sp.org/tlog-tiles over HTTP with Go's own golang.org/x/mod:
// the checkpoint with sumdb/note, then the tree through a tlog.TileReader over
// <base>tile/<L>/<N>[.p/<W>], which checks every tile it reads against the checkpoint's
// root. Proves the inclusion of entries read from <base>tile/entries/ bundles and the
// consistency of older checkpoints' roots.
// Input (stdin, JSON): {"base", "vkey", "indexes": [I, ...], "old": [{"size", "root"}]}.
// Prints "ok <size> <tiles read>" or the first failure.
// Or, given {"paths": ["tile/L/N[.p/W]", ...]}, parses each with Go's tlog.ParseTilePath
// (entries as Go's "data") and prints "L N W" for each, or the first it refuses.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type input struct {
	Paths   []string `json:"paths"`
	Base    string   `json:"base"`
	Vkey    string   `json:"vkey"`
	Indexes []int64  `json:"indexes"`
	Old     []struct {
		Size int64  `json:"size"`
		Root string `json:"root"`
	} `json:"old"`
}

func fail(format string, args ...interface{}) {
	fmt.Printf(format+"\n", args...)
	os.Exit(1)
}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

// tileReader serves Go's tiles (tile/8/L/N) from the C2SP paths (tile/L/N): the same
// layout without the height, which tlog-tiles fixes at 8.
type tileReader struct {
	base string
	read int
}

func (r *tileReader) Height() int { return 8 }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := get(r.base + "tile/" + strings.TrimPrefix(t.Path(), "tile/8/"))
		if err != nil {
			return nil, err
		}
		r.read++
		out[i] = data
	}
	return out, nil
}

func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// entry reads entry i from its bundle, which must hold exactly the entries the tree of
// this size covers, each matching its leaf hash in the (checked) level-0 tiles.
func entry(base string, size, i int64, hashes tlog.HashReader) []byte {
	n := i / 256
	w := size - n*256
	if w > 256 {
		w = 256
	}
	t := tlog.Tile{H: 8, L: 0, N: n, W: int(w)}
	path := base + "tile/entries/" + strings.TrimPrefix(t.Path(), "tile/8/0/")
	data, err := get(path)
	if err != nil {
		fail("entry %d: %v", i, err)
	}
	var entries [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			fail("bundle %s: cut in a length", path)
		}
		l := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+l {
			fail("bundle %s: cut in an entry", path)
		}
		entries = append(entries, data[2:2+l])
		data = data[2+l:]
	}
	if int64(len(entries)) != w {
		fail("bundle %s holds %d entries, not %d", path, len(entries), w)
	}
	indexes := make([]int64, w)
	for k := range indexes {
		indexes[k] = tlog.StoredHashIndex(0, n*256+int64(k))
	}
	leaves, err := hashes.ReadHashes(indexes)
	if err != nil {
		fail("entry %d: leaf hashes: %v", i, err)
	}
	for k, e := range entries {
		if tlog.RecordHash(e) != leaves[k] {
			fail("entry %d: bundle %s: entry %d is not the one in the tree", i, path, n*256+int64(k))
		}
	}
	return entries[i-n*256]
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail("bad input: %v", err)
	}
	if in.Paths != nil {
		for _, p := range in.Paths {
			goPath := "tile/8/" + strings.Replace(strings.TrimPrefix(p, "tile/"), "entries/", "data/", 1)
			t, err := tlog.ParseTilePath(goPath)
			if err != nil {
				fail("path %s: %v", p, err)
			}
			if t.Path() != goPath {
				fail("path %s: Go writes it %s", p, t.Path())
			}
			fmt.Printf("%d %d %d\n", t.L, t.N, t.W)
		}
		return
	}
	verifier, err := note.NewVerifier(in.Vkey)
	if err != nil {
		fail("vkey: %v", err)
	}
	text, err := get(in.Base + "checkpoint")
	if err != nil {
		fail("checkpoint: %v", err)
	}
	n, err := note.Open(text, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[0] != verifier.Name() {
		fail("checkpoint body %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("size: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		fail("root %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], raw)
	tree := tlog.Tree{N: size, Hash: root}
	reader := &tileReader{base: in.Base}
	hashes := tlog.TileHashReader(tree, reader)

	got, err := tlog.TreeHash(size, hashes)
	if err != nil {
		fail("tree hash: %v", err)
	}
	if got != root {
		fail("tree hash %v, checkpoint root %v", got, root)
	}
	for _, i := range in.Indexes {
		proof, err := tlog.ProveRecord(size, i, hashes)
		if err != nil {
			fail("inclusion of %d: %v", i, err)
		}
		if err := tlog.CheckRecord(proof, size, root, i, tlog.RecordHash(entry(in.Base, size, i, hashes))); err != nil {
			fail("inclusion of %d: %v", i, err)
		}
	}
	for _, old := range in.Old {
		raw, err := base64.StdEncoding.DecodeString(old.Root)
		if err != nil || len(raw) != tlog.HashSize {
			fail("old root %q", old.Root)
		}
		var oldRoot tlog.Hash
		copy(oldRoot[:], raw)
		proof, err := tlog.ProveTree(size, old.Size, hashes)
		if err != nil {
			fail("consistency from %d: %v", old.Size, err)
		}
		if err := tlog.CheckTree(proof, size, root, old.Size, oldRoot); err != nil {
			fail("consistency from %d: %v", old.Size, err)
		}
	}
	fmt.Printf("ok %d %d\n", size, reader.read)
}
