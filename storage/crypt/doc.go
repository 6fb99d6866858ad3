// Package crypt is berth's at-rest encryption format: a per-object random data
// key (DEK) wrapped by a key-encryption key (KEK) from a keyring, and the
// plaintext cut into fixed 64 KiB segments, each sealed with AES-256-GCM under
// its own random nonce.
//
// Why random per-segment nonces instead of a counter: resumable uploads seal a
// short tail on every Close and must re-seal that tail with more data on the
// next PATCH. With a counter nonce that would reuse (key, nonce); with a fresh
// random 96-bit nonce per seal it cannot (birthday bound far beyond any blob).
//
// Each segment's additional data binds the object id (random, in the header),
// the segment index and a final flag, so reordering, splicing between objects
// and truncation at a segment boundary all fail authentication. The object
// path is deliberately not bound: the registry moves objects (upload → blob).
package crypt
