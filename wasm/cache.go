//go:build js && wasm

package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"syscall/js"
	"time"

	"github.com/hack-pad/go-indexeddb/idb"
)

// The IndexedDB database the page's worker keeps. Object stores, all keyed
// by a hex SHA-256 (convert.ResultKey or convert.CalibrationKey):
//
//	results  {key, name, mode, date, size_before, size_after, sha256, model (Uint8Array), report, stats}
//	recent   {key, name, mode, date, size_before, size_after}: the list the page shows
//	stats    {key, sha256, json, date}: calibration statistics
//
// sha256 is the hash of the stored model (results) or JSON (stats); an
// entry whose content no longer matches it is discarded and recomputed.
const (
	dbName      = "litequant"
	dbVersion   = 1
	storeResult = "results"
	storeRecent = "recent"
	storeStats  = "stats"
	// maxRecent caps the stored results; the oldest go first.
	maxRecent = 20
	// openTimeout bounds waiting for the database (a "blocked" open never
	// finishes): the cache is then treated as unavailable.
	openTimeout = 5 * time.Second
)

// store is what the cache needs of IndexedDB. idbStore is the real one;
// tests wrap it to inject failures such as a full quota.
type store interface {
	get(ctx context.Context, name, key string) (js.Value, bool, error)
	// put writes all values (name → record, keyed by record.key) in one
	// transaction.
	put(ctx context.Context, records map[string]js.Value) error
	// del deletes key from each named store in one transaction.
	del(ctx context.Context, key string, names ...string) error
	all(ctx context.Context, name string) ([]js.Value, error)
}

// opener opens the store; errors mean no cache (a private window, a
// browser without IndexedDB, a blocked upgrade).
type opener func(ctx context.Context) (store, error)

// cache is the result and statistics cache. Its methods never fail a
// conversion: a storage problem disables or skips caching and is reported
// once, through warn.
type cache struct {
	open opener

	omu   sync.Mutex // guards opening: st, tried, off
	st    store
	tried bool
	off   bool // unavailable: every call is a miss

	wmu    sync.Mutex // guards warned, warn
	warned bool       // a problem was already reported
	warn   string     // the problem to report, until taken
}

// problem records a storage problem to report once.
func (c *cache) problem(msg string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.warned {
		c.warned = true
		c.warn = msg
	}
}

// takeWarning returns the pending problem report, once.
func (c *cache) takeWarning() string {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	w := c.warn
	c.warn = ""
	return w
}

// ready opens the store on first use.
func (c *cache) ready(ctx context.Context) bool {
	c.omu.Lock()
	defer c.omu.Unlock()
	if !c.tried {
		c.tried = true
		octx, cancel := context.WithTimeout(ctx, openTimeout)
		st, err := c.open(octx)
		cancel()
		if err != nil {
			c.off = true
			c.problem("Browser storage (IndexedDB) is unavailable, so results are not cached; conversions still work. (" + oneLine(err) + ")")
		} else {
			c.st = st
		}
	}
	return !c.off
}

// storageError reports a failed write or read once.
func (c *cache) storageError(err error) {
	if isQuota(err) {
		c.problem("Browser storage is full, so this result was not cached; conversions still work. Delete recent conversions to free space.")
		return
	}
	c.problem("Browser storage failed, so this result was not cached; conversions still work. (" + oneLine(err) + ")")
}

// isQuota reports whether err is a QuotaExceededError, as go-indexeddb's
// DOMException or as a thrown JavaScript exception.
func isQuota(err error) bool {
	if errors.Is(err, idb.NewDOMException("QuotaExceededError")) {
		return true
	}
	var je js.Error
	return errors.As(err, &je) && je.Value.Type() == js.TypeObject && je.Value.Get("name").String() == "QuotaExceededError"
}

// entry is a stored result.
type entry struct {
	Key        string
	Name       string
	Mode       string
	Date       time.Time
	SizeBefore int
	SizeAfter  int
	Model      []byte
	Report     string // JSON
	Stats      string // JSON; "" without calibration
}

// getResult returns the stored result under key, or false. An entry whose
// model no longer matches its hash is deleted and reported as a miss.
func (c *cache) getResult(ctx context.Context, key string) (*entry, bool) {
	if !c.ready(ctx) {
		return nil, false
	}
	v, ok, err := c.st.get(ctx, storeResult, key)
	if err != nil {
		c.storageError(err)
		return nil, false
	}
	if !ok {
		return nil, false
	}
	e, err := decodeEntry(v)
	if err != nil {
		_ = c.st.del(ctx, key, storeResult, storeRecent)
		return nil, false
	}
	return e, true
}

func decodeEntry(v js.Value) (e *entry, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed entry: %v", r)
		}
	}()
	e = &entry{
		Key:        v.Get("key").String(),
		Name:       v.Get("name").String(),
		Mode:       v.Get("mode").String(),
		Date:       time.UnixMilli(int64(v.Get("date").Float())),
		SizeBefore: v.Get("size_before").Int(),
		SizeAfter:  v.Get("size_after").Int(),
		Report:     v.Get("report").String(),
	}
	if s := v.Get("stats"); s.Type() == js.TypeString {
		e.Stats = s.String()
	}
	e.Model, err = bytesOf(v.Get("model"))
	if err != nil {
		return nil, err
	}
	if sum := v.Get("sha256"); sum.Type() != js.TypeString || sum.String() != e.digest() {
		return nil, errors.New("stored entry does not match its hash")
	}
	return e, nil
}

// digest is the hash stored with a result: of its model, report and
// statistics (each with its length first), so damage to any of them makes
// the entry a miss, recomputed and stored again.
func (e *entry) digest() string {
	h := sha256.New()
	for _, part := range [][]byte{e.Model, []byte(e.Report), []byte(e.Stats)} {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// putResult stores e and its recent-list line, and trims the list.
func (c *cache) putResult(ctx context.Context, e *entry) {
	if !c.ready(ctx) {
		return
	}
	meta := map[string]any{
		"key": e.Key, "name": e.Name, "mode": e.Mode, "date": float64(e.Date.UnixMilli()),
		"size_before": e.SizeBefore, "size_after": e.SizeAfter,
	}
	full := map[string]any{"sha256": e.digest(), "model": jsBytes(e.Model), "report": e.Report, "stats": nil}
	for k, v := range meta {
		full[k] = v
	}
	if e.Stats != "" {
		full["stats"] = e.Stats
	}
	err := c.st.put(ctx, map[string]js.Value{storeResult: js.ValueOf(full), storeRecent: js.ValueOf(meta)})
	if err != nil {
		c.storageError(err)
		return
	}
	c.trim(ctx)
}

// trim deletes the oldest results beyond maxRecent.
func (c *cache) trim(ctx context.Context) {
	list, err := c.recent(ctx)
	if err != nil || len(list) <= maxRecent {
		return
	}
	for _, r := range list[maxRecent:] {
		_ = c.st.del(ctx, r.Key, storeResult, storeRecent)
	}
}

// recentEntry is a line of the recent conversions list.
type recentEntry struct {
	Key        string  `json:"key"`
	Name       string  `json:"name"`
	Mode       string  `json:"mode"`
	Date       float64 `json:"date"` // ms since the epoch
	SizeBefore int     `json:"size_before"`
	SizeAfter  int     `json:"size_after"`
}

// recent lists the stored results, newest first.
func (c *cache) recent(ctx context.Context) ([]recentEntry, error) {
	if !c.ready(ctx) {
		return nil, nil
	}
	vals, err := c.st.all(ctx, storeRecent)
	if err != nil {
		c.storageError(err)
		return nil, nil
	}
	var out []recentEntry
	for _, v := range vals {
		func() {
			defer func() { _ = recover() }() // skip a malformed line
			out = append(out, recentEntry{Key: v.Get("key").String(), Name: v.Get("name").String(), Mode: v.Get("mode").String(),
				Date: v.Get("date").Float(), SizeBefore: v.Get("size_before").Int(), SizeAfter: v.Get("size_after").Int()})
		}()
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date > out[j].Date })
	return out, nil
}

// remove deletes a stored result.
func (c *cache) remove(ctx context.Context, key string) error {
	if !c.ready(ctx) {
		return nil
	}
	return c.st.del(ctx, key, storeResult, storeRecent)
}

// getStats returns stored calibration statistics (JSON), or false. An entry
// that does not match its hash is deleted and reported as a miss.
func (c *cache) getStats(ctx context.Context, key string) (string, bool) {
	if !c.ready(ctx) {
		return "", false
	}
	v, ok, err := c.st.get(ctx, storeStats, key)
	if err != nil {
		c.storageError(err)
		return "", false
	}
	if !ok {
		return "", false
	}
	j, sum := v.Get("json"), v.Get("sha256")
	if j.Type() != js.TypeString || sum.Type() != js.TypeString || hashHex([]byte(j.String())) != sum.String() {
		_ = c.st.del(ctx, key, storeStats)
		return "", false
	}
	return j.String(), true
}

// putStats stores calibration statistics.
func (c *cache) putStats(ctx context.Context, key, statsJSON string) {
	if !c.ready(ctx) {
		return
	}
	rec := map[string]any{"key": key, "json": statsJSON, "sha256": hashHex([]byte(statsJSON)), "date": float64(time.Now().UnixMilli())}
	if err := c.st.put(ctx, map[string]js.Value{storeStats: js.ValueOf(rec)}); err != nil {
		c.storageError(err)
	}
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// idbStore is store over IndexedDB through go-indexeddb.
type idbStore struct {
	db *idb.Database
}

// openIndexedDB opens the litequant database of the global indexedDB.
func openIndexedDB(ctx context.Context) (store, error) {
	return openNamedIDB(ctx, dbName)
}

// openNamedIDB opens the database called name (tests use their own).
func openNamedIDB(ctx context.Context, name string) (store, error) {
	return openIDB(ctx, js.Global().Get("indexedDB"), name)
}

func openIDB(ctx context.Context, factory js.Value, name string) (_ store, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	if !factory.Truthy() {
		return nil, errors.New("indexedDB is not defined")
	}
	f, err := idb.WrapFactory(factory)
	if err != nil {
		return nil, err
	}
	req, err := f.Open(ctx, name, dbVersion, func(db *idb.Database, oldVersion, newVersion uint) error {
		for _, name := range []string{storeResult, storeRecent, storeStats} {
			if _, err := db.CreateObjectStore(name, idb.ObjectStoreOptions{KeyPath: js.ValueOf("key")}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	db, err := req.Await(ctx)
	if err != nil {
		return nil, err
	}
	return &idbStore{db: db}, nil
}

func (s *idbStore) get(ctx context.Context, name, key string) (js.Value, bool, error) {
	txn, err := s.db.Transaction(idb.TransactionReadOnly, name)
	if err != nil {
		return js.Value{}, false, err
	}
	st, err := txn.ObjectStore(name)
	if err != nil {
		return js.Value{}, false, err
	}
	req, err := st.Get(js.ValueOf(key))
	if err != nil {
		return js.Value{}, false, err
	}
	v, err := req.Await(ctx)
	if err != nil {
		return js.Value{}, false, err
	}
	if v.IsUndefined() || v.IsNull() {
		return js.Value{}, false, nil
	}
	return v, true, nil
}

func (s *idbStore) put(ctx context.Context, records map[string]js.Value) error {
	names := make([]string, 0, len(records))
	for n := range records {
		names = append(names, n)
	}
	sort.Strings(names)
	txn, err := s.db.Transaction(idb.TransactionReadWrite, names[0], names[1:]...)
	if err != nil {
		return err
	}
	for _, n := range names {
		st, err := txn.ObjectStore(n)
		if err != nil {
			return err
		}
		if _, err := st.Put(records[n]); err != nil {
			_ = txn.Abort()
			return err
		}
	}
	return txn.Await(ctx)
}

func (s *idbStore) del(ctx context.Context, key string, names ...string) error {
	txn, err := s.db.Transaction(idb.TransactionReadWrite, names[0], names[1:]...)
	if err != nil {
		return err
	}
	for _, n := range names {
		st, err := txn.ObjectStore(n)
		if err != nil {
			return err
		}
		if _, err := st.Delete(js.ValueOf(key)); err != nil {
			_ = txn.Abort()
			return err
		}
	}
	return txn.Await(ctx)
}

func (s *idbStore) all(ctx context.Context, name string) ([]js.Value, error) {
	txn, err := s.db.Transaction(idb.TransactionReadOnly, name)
	if err != nil {
		return nil, err
	}
	st, err := txn.ObjectStore(name)
	if err != nil {
		return nil, err
	}
	var out []js.Value
	cur, err := st.OpenCursor(idb.CursorNext)
	if err != nil {
		return nil, err
	}
	err = cur.Iter(ctx, func(c *idb.CursorWithValue) error {
		v, err := c.Value()
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}
