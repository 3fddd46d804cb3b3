package engine

import (
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/model/labels"
)

// Names of the labels the pipeline sets when a stage fails on a line.
const (
	errorLabel        = "__error__"
	errorDetailsLabel = "__error_details__"
	extractedSuffix   = "_extracted"
)

// Values of __error__, as Loki names them.
const (
	errJSON             = "JSONParserErr"
	errLogfmt           = "LogfmtParserErr"
	errSampleExtraction = "SampleExtractionErr"
	errLabelFilter      = "LabelFilterErr"
	errTemplateFormat   = "TemplateFormatErr"
)

// labelCategory says where a non-stream label came from.
type labelCategory uint8

const (
	catMetadata labelCategory = iota + 1 // structured metadata of the entry
	catParsed                            // set by a parser or formatter
)

type labelKV struct {
	name, value string
	cat         labelCategory
}

// streamBase is the per-stream part of a labelsBuilder: the stream's labels
// as a slice (so merges need no callbacks) and their hash.
type streamBase struct {
	ls   labels.Labels
	list []labels.Label
	hash uint64
	// The hash of the stream's labels under one grouping, cached for lines
	// the pipeline leaves unchanged.
	group     *grouping
	groupHash uint64
}

func newStreamBase(ls labels.Labels) *streamBase {
	b := &streamBase{ls: ls, list: make([]labels.Label, 0, ls.Len())}
	ls.Range(func(l labels.Label) { b.list = append(b.list, l) })
	b.hash = hashLabelList(b.list)
	return b
}

// labelsBuilder holds the labels of the line being processed: the stream's
// labels plus what the pipeline added (unique names) minus what it
// deleted. It is reset for every line. Values set through the arena (setBytes)
// alias a buffer reused by the next line: they are valid only while the line
// is processed, and anything kept beyond must be cloned (labels() does).
type labelsBuilder struct {
	base *streamBase
	add  []labelKV // unique names; sorted when sorted is true
	// sorted says add is in name order (sortAdd restores it).
	sorted bool
	del    []string // stream label names removed
	arena  []byte
	dirty  bool // add or del changed since reset
	dg     xxhash.Digest
}

func (b *labelsBuilder) reset(base *streamBase) {
	b.base = base
	b.add = b.add[:0]
	b.sorted = true
	b.del = b.del[:0]
	b.arena = b.arena[:0]
	b.dirty = false
}

// baseHas reports whether the stream itself has label name.
func (b *labelsBuilder) baseHas(name string) bool {
	for i := range b.base.list {
		if b.base.list[i].Name == name {
			return true
		}
	}
	return false
}

func (b *labelsBuilder) deleted(name string) bool {
	for _, d := range b.del {
		if d == name {
			return true
		}
	}
	return false
}

// findAdd returns the index of label name among the added labels. The
// added labels are kept in insertion order while a line is parsed (a linear
// scan of a few labels is cheaper than keeping them sorted) and sorted
// only when the whole set is read.
func (b *labelsBuilder) findAdd(name string) (int, bool) {
	for i := range b.add {
		if b.add[i].name == name {
			return i, true
		}
	}
	return len(b.add), false
}

// sortAdd sorts the added labels by name (insertion sort: few labels, and
// lines of a stream mostly add them in the same order).
func (b *labelsBuilder) sortAdd() {
	if b.sorted {
		return
	}
	a := b.add
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].name < a[j-1].name; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
	b.sorted = true
}

// get returns the current value of label name.
func (b *labelsBuilder) get(name string) (string, bool) {
	if i, ok := b.findAdd(name); ok {
		return b.add[i].value, true
	}
	if len(b.del) > 0 && b.deleted(name) {
		return "", false
	}
	for i := range b.base.list {
		if b.base.list[i].Name == name {
			return b.base.list[i].Value, true
		}
	}
	return "", false
}

// getCat returns the value and category of label name (0 for stream labels).
func (b *labelsBuilder) getCat(name string) (string, labelCategory, bool) {
	if i, ok := b.findAdd(name); ok {
		return b.add[i].value, b.add[i].cat, true
	}
	v, ok := b.get(name)
	return v, 0, ok
}

// has reports whether label name is present (parsed or stream).
func (b *labelsBuilder) has(name string) bool {
	_, ok := b.get(name)
	return ok
}

// set sets label name (overriding a stream label of the same name).
func (b *labelsBuilder) set(cat labelCategory, name, value string) {
	b.dirty = true
	if i, ok := b.findAdd(name); ok {
		b.add[i].value = value
		b.add[i].cat = cat
		return
	}
	b.appendNew(cat, name, value)
}

// appendNew adds a label known to be absent (findAdd said so).
func (b *labelsBuilder) appendNew(cat labelCategory, name, value string) {
	b.dirty = true
	if n := len(b.add); n > 0 && b.add[n-1].name > name {
		b.sorted = false
	}
	b.add = append(b.add, labelKV{name: name, value: value, cat: cat})
}

// setBytes sets label name to a copy of value kept in the line arena.
func (b *labelsBuilder) setBytes(cat labelCategory, name string, value []byte) {
	b.set(cat, name, b.arenaString(value))
}

// arenaString copies p into the line arena and returns it as a string valid
// until the next reset.
func (b *labelsBuilder) arenaString(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	if cap(b.arena)-len(b.arena) < len(p) {
		// A new arena: strings already handed out keep the old one alive.
		n := 2*cap(b.arena) + len(p)
		if n < 4096 {
			n = 4096
		}
		b.arena = make([]byte, 0, n)
	}
	start := len(b.arena)
	b.arena = append(b.arena, p...)
	return unsafe.String(&b.arena[start], len(p))
}

// del removes label name.
func (b *labelsBuilder) delete(name string) {
	if i, ok := b.findAdd(name); ok {
		b.dirty = true
		b.add = append(b.add[:i], b.add[i+1:]...)
	}
	if b.baseHas(name) && !b.deleted(name) {
		b.dirty = true
		b.del = append(b.del, name)
	}
}

// setErr records a pipeline error on the line; details may be empty.
func (b *labelsBuilder) setErr(err, details string) {
	b.set(catParsed, errorLabel, err)
	if details != "" {
		b.set(catParsed, errorDetailsLabel, details)
	}
}

func (b *labelsBuilder) hasErr() bool {
	_, ok := b.findAdd(errorLabel)
	return ok
}

func (b *labelsBuilder) getErr() string {
	if i, ok := b.findAdd(errorLabel); ok {
		return b.add[i].value
	}
	return ""
}

// parsedName returns the label name an extracted key gets: key, or
// key_extracted when the stream already has a label of that name.
func (b *labelsBuilder) parsedName(key string) string {
	if b.baseHas(key) {
		return key + extractedSuffix
	}
	return key
}

// each calls f for every current label in name order.
func (b *labelsBuilder) each(f func(name, value string)) {
	b.sortAdd()
	list, add := b.base.list, b.add
	i, j := 0, 0
	for i < len(list) || j < len(add) {
		if j >= len(add) || (i < len(list) && list[i].Name < add[j].name) {
			if len(b.del) == 0 || !b.deleted(list[i].Name) {
				f(list[i].Name, list[i].Value)
			}
			i++
			continue
		}
		if i < len(list) && list[i].Name == add[j].name {
			i++
		}
		f(add[j].name, add[j].value)
		j++
	}
}

// hash returns the hash of the current label set, without allocating.
func (b *labelsBuilder) hash() uint64 {
	if !b.dirty {
		return b.base.hash
	}
	b.sortAdd()
	b.dg.Reset()
	list, add := b.base.list, b.add
	i, j := 0, 0
	for i < len(list) || j < len(add) {
		var n, v string
		if j >= len(add) || (i < len(list) && list[i].Name < add[j].name) {
			n, v = list[i].Name, list[i].Value
			i++
			if len(b.del) > 0 && b.deleted(n) {
				continue
			}
		} else {
			if i < len(list) && list[i].Name == add[j].name {
				i++
			}
			n, v = add[j].name, add[j].value
			j++
		}
		_, _ = b.dg.WriteString(n)
		_, _ = b.dg.Write(sepName)
		_, _ = b.dg.WriteString(v)
		_, _ = b.dg.Write(sepValue)
	}
	return b.dg.Sum64()
}

var (
	sepName  = []byte{0xfe}
	sepValue = []byte{0xff}
)

func hashLabelList(list []labels.Label) uint64 {
	var d xxhash.Digest
	d.Reset()
	for _, l := range list {
		_, _ = d.WriteString(l.Name)
		_, _ = d.Write(sepName)
		_, _ = d.WriteString(l.Value)
		_, _ = d.Write(sepValue)
	}
	return d.Sum64()
}

// labels returns the current label set as an owned labels.Labels.
func (b *labelsBuilder) labels() labels.Labels {
	if !b.dirty {
		return b.base.ls
	}
	var sb labels.ScratchBuilder
	b.each(func(n, v string) { sb.Add(cloneString(n), cloneString(v)) })
	return sb.Labels()
}

// equal reports whether ls equals the current label set.
func (b *labelsBuilder) equal(ls labels.Labels) bool {
	if !b.dirty {
		return labels.Equal(ls, b.base.ls)
	}
	n := 0
	ok := true
	b.each(func(name, value string) {
		n++
		if ok && ls.Get(name) != value {
			ok = false
		}
	})
	return ok && n == ls.Len()
}

// toMap returns the current labels as a fresh map (for templates).
func (b *labelsBuilder) toMap() map[string]string {
	m := make(map[string]string, len(b.base.list)+len(b.add))
	b.each(func(n, v string) { m[n] = v })
	return m
}

func cloneString(s string) string {
	if s == "" {
		return ""
	}
	return string(append([]byte(nil), s...))
}

// bytesString views p as a string without copying; p must not change while
// the string is in use.
func bytesString(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	return unsafe.String(&p[0], len(p))
}

// grouping selects labels: by (names) keeps only names, without (names)
// drops them. names are sorted.
type grouping struct {
	without bool
	names   []string
}

func (g *grouping) keeps(name string) bool {
	if g == nil {
		return true
	}
	found := false
	for _, n := range g.names {
		if n == name {
			found = true
			break
		}
	}
	return found != g.without
}

// cursor walks the current labels of a builder in name order.
type cursor struct {
	b    *labelsBuilder
	i, j int
	cat  labelCategory // category of the label next returned last
}

func (c *cursor) next() (string, string, bool) {
	b := c.b
	if c.i == 0 && c.j == 0 {
		b.sortAdd()
	}
	list, add := b.base.list, b.add
	for c.i < len(list) || c.j < len(add) {
		if c.j >= len(add) || (c.i < len(list) && list[c.i].Name < add[c.j].name) {
			l := list[c.i]
			c.i++
			if len(b.del) > 0 && b.deleted(l.Name) {
				continue
			}
			c.cat = 0
			return l.Name, l.Value, true
		}
		if c.i < len(list) && list[c.i].Name == add[c.j].name {
			c.i++
		}
		a := add[c.j]
		c.j++
		c.cat = a.cat
		return a.name, a.value, true
	}
	return "", "", false
}

// catHash hashes the labels of category cat (0: the stream's own labels
// that the pipeline left untouched).
func (b *labelsBuilder) catHash(cat labelCategory) uint64 {
	b.dg.Reset()
	c := cursor{b: b}
	for n, v, ok := c.next(); ok; n, v, ok = c.next() {
		if c.cat != cat {
			continue
		}
		_, _ = b.dg.WriteString(n)
		_, _ = b.dg.Write(sepName)
		_, _ = b.dg.WriteString(v)
		_, _ = b.dg.Write(sepValue)
	}
	return b.dg.Sum64()
}

// catLabels returns the labels of category cat, owned.
func (b *labelsBuilder) catLabels(cat labelCategory) labels.Labels {
	var sb labels.ScratchBuilder
	c := cursor{b: b}
	for n, v, ok := c.next(); ok; n, v, ok = c.next() {
		if c.cat == cat {
			sb.Add(cloneString(n), cloneString(v))
		}
	}
	return sb.Labels()
}

// catEqual reports whether ls equals the labels of category cat.
func (b *labelsBuilder) catEqual(ls labels.Labels, cat labelCategory) bool {
	n := 0
	c := cursor{b: b}
	for name, v, ok := c.next(); ok; name, v, ok = c.next() {
		if c.cat != cat {
			continue
		}
		n++
		if ls.Get(name) != v {
			return false
		}
	}
	return n == ls.Len()
}

// groupHash hashes the labels g keeps.
func (b *labelsBuilder) groupHash(g *grouping) uint64 {
	if g == nil {
		return b.hash()
	}
	if !b.dirty && b.base.group == g {
		return b.base.groupHash
	}
	h := b.groupHashSlow(g)
	if !b.dirty {
		b.base.group, b.base.groupHash = g, h
	}
	return h
}

func (b *labelsBuilder) groupHashSlow(g *grouping) uint64 {
	b.dg.Reset()
	c := cursor{b: b}
	for n, v, ok := c.next(); ok; n, v, ok = c.next() {
		if !g.keeps(n) {
			continue
		}
		_, _ = b.dg.WriteString(n)
		_, _ = b.dg.Write(sepName)
		_, _ = b.dg.WriteString(v)
		_, _ = b.dg.Write(sepValue)
	}
	return b.dg.Sum64()
}

// groupLabels returns the labels g keeps, owned.
func (b *labelsBuilder) groupLabels(g *grouping) labels.Labels {
	if g == nil {
		return b.labels()
	}
	var sb labels.ScratchBuilder
	c := cursor{b: b}
	for n, v, ok := c.next(); ok; n, v, ok = c.next() {
		if g.keeps(n) {
			sb.Add(cloneString(n), cloneString(v))
		}
	}
	return sb.Labels()
}

// groupEqual reports whether ls equals the labels g keeps.
func (b *labelsBuilder) groupEqual(ls labels.Labels, g *grouping) bool {
	n := 0
	c := cursor{b: b}
	for name, v, ok := c.next(); ok; name, v, ok = c.next() {
		if !g.keeps(name) {
			continue
		}
		n++
		if ls.Get(name) != v {
			return false
		}
	}
	return n == ls.Len()
}
