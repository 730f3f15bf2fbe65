// Package mpcodec is the msgpack body codec a DMicro peer registers to talk to
// the SDK's msgpack codec: DMicro has none, the SDK uses id 'm' (109) and name
// "msgpack" (src/codec/msgpack.ts), implemented here with
// github.com/vmihailenco/msgpack/v5. It also holds the struct the msgpack
// interop routes exchange and Wire, which shows the formats a body was written in.
package mpcodec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/osgochina/dmicro/drpc/codec"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

const (
	ID   byte = 'm'
	Name      = "msgpack"
)

// Codec implements DMicro's codec.Codec.
type Codec struct{}

func (Codec) ID() byte     { return ID }
func (Codec) Name() string { return Name }

// Marshal uses the library defaults: structs as maps keyed by their msgpack
// tags, every Go integer type in its own fixed-width format (int64 -> 0xd3),
// float64 -> 0xcb, time.Time -> the timestamp extension (-1).
func (Codec) Marshal(v interface{}) ([]byte, error) {
	if v == nil {
		return []byte{}, nil
	}
	return msgpack.Marshal(v)
}

// Unmarshal refuses keys the target struct does not have, so a misspelt key
// on the TypeScript side fails instead of silently leaving a zero value. An
// empty body is how the SDK sends `undefined`: it leaves v untouched.
func (Codec) Unmarshal(data []byte, v interface{}) error {
	if len(data) == 0 {
		return nil
	}
	d := msgpack.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields(true)
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.PeekCode(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("mpcodec: bytes after the value")
	}
	return nil
}

// Register adds the codec to DMicro's registry (once per process).
func Register() { codec.Reg(Codec{}) }

// Inner is the nested struct of Typed.
type Inner struct {
	Name  string   `msgpack:"name"`
	Level int32    `msgpack:"level"`
	Tags  []string `msgpack:"tags"`
}

// Typed is the argument of the msgpack interop routes: one field per Go type
// the SDK's values must land in, plus slices for the format-boundary values.
type Typed struct {
	I64    int64            `msgpack:"i64"`
	U64    uint64           `msgpack:"u64"`
	I32    int32            `msgpack:"i32"`
	F64    float64          `msgpack:"f64"`
	Str    string           `msgpack:"str"`
	Bin    []byte           `msgpack:"bin"`
	Flag   bool             `msgpack:"flag"`
	At     time.Time        `msgpack:"at"`
	Counts map[string]int64 `msgpack:"counts"`
	List   []string         `msgpack:"list"`
	Inner  Inner            `msgpack:"inner"`
	Ptr    *Inner           `msgpack:"ptr"`
	Ints   []int64          `msgpack:"ints"`
	Floats []float64        `msgpack:"floats"`
	Times  []time.Time      `msgpack:"times"`
}

// Wire mirrors a msgpack value format by format: a map becomes a map of its
// keys (as text), an array a slice, and every other value the string
// "<first byte, hex> <kind> <detail>", e.g. "cd uint16 256", "d0 int8 -33",
// "d9 str 32" (length in bytes), "c6 bin 70000", "d7 ext -1 8" (type and
// data length). The first byte is the format the writer chose.
func Wire(raw []byte) (interface{}, error) {
	d := msgpack.NewDecoder(bytes.NewReader(raw))
	v, err := wire(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.PeekCode(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("wire: bytes after the value")
	}
	return v, nil
}

func wire(d *msgpack.Decoder) (interface{}, error) {
	c, err := d.PeekCode()
	if err != nil {
		return nil, err
	}
	switch {
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err := d.DecodeMapLen()
		if err != nil {
			return nil, err
		}
		out := make(map[string]interface{}, n)
		for i := 0; i < n; i++ {
			k, err := d.DecodeInterface()
			if err != nil {
				return nil, err
			}
			if out[fmt.Sprint(k)], err = wire(d); err != nil {
				return nil, err
			}
		}
		return out, nil
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := d.DecodeArrayLen()
		if err != nil {
			return nil, err
		}
		out := make([]interface{}, n)
		for i := range out {
			if out[i], err = wire(d); err != nil {
				return nil, err
			}
		}
		return out, nil
	case msgpcode.IsString(c):
		s, err := d.DecodeString()
		return fmt.Sprintf("%02x str %d", c, len(s)), err
	case msgpcode.IsBin(c):
		b, err := d.DecodeBytes()
		return fmt.Sprintf("%02x bin %d", c, len(b)), err
	case msgpcode.IsExt(c):
		id, n, err := d.DecodeExtHeader()
		if err == nil {
			err = d.ReadFull(make([]byte, n))
		}
		return fmt.Sprintf("%02x ext %d %d", c, id, n), err
	}
	// DecodeInterface keeps the wire type: a fixint is int8, 0xcd uint16, 0xd3 int64, 0xcb float64...
	v, err := d.DecodeInterface()
	return fmt.Sprintf("%02x %T %v", c, v, v), err
}
