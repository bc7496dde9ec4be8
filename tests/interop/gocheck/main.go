// Checks Suyuan's log with Go's own golang.org/x/mod code: the checkpoint with
// sumdb/note, inclusion and consistency proofs with sumdb/tlog.
// Input (stdin, JSON): {"vkey", "checkpoint", "inclusion": [{"index", "entry", "proof"}],
// "consistency": [{"old", "old_root", "proof"}]}. Prints "ok" or the first failure.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type input struct {
	Vkey       string `json:"vkey"`
	Checkpoint string `json:"checkpoint"`
	Inclusion  []struct {
		Index int64    `json:"index"`
		Entry string   `json:"entry"`
		Proof []string `json:"proof"`
	} `json:"inclusion"`
	Consistency []struct {
		Old     int64    `json:"old"`
		OldRoot string   `json:"old_root"`
		Proof   []string `json:"proof"`
	} `json:"consistency"`
}

func hash(b64 string) tlog.Hash {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != tlog.HashSize {
		fail("bad hash %q", b64)
	}
	var h tlog.Hash
	copy(h[:], raw)
	return h
}

func hashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		out[i] = hash(s)
	}
	return out
}

func fail(format string, args ...interface{}) {
	fmt.Printf(format+"\n", args...)
	os.Exit(1)
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail("bad input: %v", err)
	}
	verifier, err := note.NewVerifier(in.Vkey)
	if err != nil {
		fail("vkey: %v", err)
	}
	n, err := note.Open([]byte(in.Checkpoint), note.VerifierList(verifier))
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
	root := hash(lines[2])
	for _, inc := range in.Inclusion {
		entry, err := base64.StdEncoding.DecodeString(inc.Entry)
		if err != nil {
			fail("entry: %v", err)
		}
		if err := tlog.CheckRecord(hashes(inc.Proof), size, root, inc.Index, tlog.RecordHash(entry)); err != nil {
			fail("inclusion of %d: %v", inc.Index, err)
		}
	}
	for _, c := range in.Consistency {
		if err := tlog.CheckTree(hashes(c.Proof), size, root, c.Old, hash(c.OldRoot)); err != nil {
			fail("consistency from %d: %v", c.Old, err)
		}
	}
	fmt.Println("ok")
}
