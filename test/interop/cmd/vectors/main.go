// Command vectors produces golden vectors with DMicro's own drpc code.
//
// It reads one JSON document {"ops":[...]} on stdin and writes one JSON
// document {"results":[...]} on stdout. Every op is packed or unpacked with
// the real dmicro message type, the real raw proto / WebSocket JSON
// sub-proto, and the real transfer filters (gzip 'z' level 5, md5 '5').
// Errors (including panics inside dmicro) are reported per op.
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gogf/gf/v2/util/gconv"
	"github.com/osgochina/dmicro/drpc/message"
	"github.com/osgochina/dmicro/drpc/mixer/websocket/jsonSubProto"
	"github.com/osgochina/dmicro/drpc/proto"
	"github.com/osgochina/dmicro/drpc/proto/rawproto"
	"github.com/osgochina/dmicro/drpc/status"
	"github.com/osgochina/dmicro/drpc/tfilter"
)

func init() {
	tfilter.RegGzip(5)
	tfilter.RegMD5()
}

type statusIn struct {
	Code  int32  `json:"code"`
	Msg   string `json:"msg"`
	Cause string `json:"cause"`
}

type opIn struct {
	Op            string            `json:"op"`
	Proto         string            `json:"proto"`
	Seq           int32             `json:"seq"`
	MType         int               `json:"mtype"`
	ServiceMethod string            `json:"serviceMethod"`
	Status        *statusIn         `json:"status"`
	Meta          map[string]string `json:"meta"`
	BodyCodec     int               `json:"bodyCodec"`
	BodyHex       string            `json:"bodyHex"`
	Pipe          []int             `json:"pipe"`
	FrameHex      string            `json:"frameHex"`
}

type statusOut struct {
	Code  int32  `json:"code"`
	Msg   string `json:"msg"`
	Cause string `json:"cause"`
}

type unpackOut struct {
	Seq           int32             `json:"seq"`
	MType         int               `json:"mtype"`
	ServiceMethod string            `json:"serviceMethod"`
	Status        statusOut         `json:"status"`
	Meta          map[string]string `json:"meta"`
	BodyCodec     int               `json:"bodyCodec"`
	BodyHex       string            `json:"bodyHex"`
	Pipe          []int             `json:"pipe"`
	// TrailingHex is only present when the raw frame had bytes after the
	// length announced by its own 4-byte prefix (dmicro ignores them here,
	// on a stream they would be the start of the next frame).
	TrailingHex string `json:"trailingHex,omitempty"`
}

type packOut struct {
	FrameHex string `json:"frameHex"`
}

type errOut struct {
	Error string `json:"error"`
}

// memIO is the in-memory reader/writer handed to a proto (proto.IOWithReadBuffer).
type memIO struct {
	bytes.Buffer
}

var _ proto.IOWithReadBuffer = (*memIO)(nil)

func protoFunc(name string) (proto.ProtoFunc, error) {
	switch name {
	case "raw":
		return rawproto.NewRawProtoFunc(), nil
	case "json":
		return jsonSubProto.NewJSONSubProtoFunc(), nil
	default:
		return nil, fmt.Errorf("unknown proto %q (want \"raw\" or \"json\")", name)
	}
}

func toByte(what string, v int) (byte, error) {
	if v < 0 || v > 255 {
		return 0, fmt.Errorf("%s out of byte range: %d", what, v)
	}
	return byte(v), nil
}

func doPack(in *opIn) (interface{}, error) {
	pf, err := protoFunc(in.Proto)
	if err != nil {
		return nil, err
	}
	mtype, err := toByte("mtype", in.MType)
	if err != nil {
		return nil, err
	}
	codecID, err := toByte("bodyCodec", in.BodyCodec)
	if err != nil {
		return nil, err
	}
	body, err := hex.DecodeString(in.BodyHex)
	if err != nil {
		return nil, fmt.Errorf("bodyHex: %v", err)
	}
	m := message.NewMessage()
	m.SetSeq(in.Seq)
	m.SetMType(mtype)
	m.SetServiceMethod(in.ServiceMethod)
	if in.Status != nil {
		m.SetStatus(status.New(in.Status.Code, in.Status.Msg, in.Status.Cause))
	}
	for k, v := range in.Meta {
		m.Meta().Set(k, v)
	}
	m.SetBodyCodec(codecID)
	m.SetBody(body)
	for _, id := range in.Pipe {
		b, err := toByte("pipe id", id)
		if err != nil {
			return nil, err
		}
		if err := m.PipeTFilter().Append(b); err != nil {
			return nil, err
		}
	}
	buf := new(memIO)
	if err := pf(buf).Pack(m); err != nil {
		return nil, err
	}
	return packOut{FrameHex: hex.EncodeToString(buf.Bytes())}, nil
}

// statusFields reads code/msg/raw cause from a dmicro Status. The cause field
// is private and Cause() synthesises one from msg, so go through MarshalJSON,
// whose text is {"code":N,"msg":<strconv.Quote>,"cause":<strconv.Quote>}.
func statusFields(s *status.Status) (statusOut, error) {
	if s == nil {
		return statusOut{}, nil
	}
	b, err := s.MarshalJSON()
	if err != nil {
		return statusOut{}, err
	}
	t := string(b)
	const pa, pb, pc = `{"code":`, `,"msg":`, `,"cause":`
	if !strings.HasPrefix(t, pa) {
		return statusOut{}, fmt.Errorf("unexpected status text %q", t)
	}
	t = t[len(pa):]
	i := strings.Index(t, pb)
	if i < 0 {
		return statusOut{}, fmt.Errorf("unexpected status text %q", b)
	}
	code, err := strconv.ParseInt(t[:i], 10, 32)
	if err != nil {
		return statusOut{}, err
	}
	t = t[i+len(pb):]
	qm, err := strconv.QuotedPrefix(t)
	if err != nil {
		return statusOut{}, err
	}
	msg, _ := strconv.Unquote(qm)
	t = t[len(qm):]
	if !strings.HasPrefix(t, pc) {
		return statusOut{}, fmt.Errorf("unexpected status text %q", b)
	}
	t = t[len(pc):]
	qc, err := strconv.QuotedPrefix(t)
	if err != nil {
		return statusOut{}, err
	}
	cause, _ := strconv.Unquote(qc)
	return statusOut{Code: int32(code), Msg: msg, Cause: cause}, nil
}

func doUnpack(in *opIn) (interface{}, error) {
	pf, err := protoFunc(in.Proto)
	if err != nil {
		return nil, err
	}
	frame, err := hex.DecodeString(in.FrameHex)
	if err != nil {
		return nil, fmt.Errorf("frameHex: %v", err)
	}
	buf := new(memIO)
	buf.Write(frame)
	m := message.NewMessage()
	m.SetNewBody(func(message.Header) interface{} { return new([]byte) })
	if err := pf(buf).Unpack(m); err != nil {
		return nil, err
	}
	out := unpackOut{
		Seq:           m.Seq(),
		MType:         int(m.MType()),
		ServiceMethod: m.ServiceMethod(),
		Meta:          map[string]string{},
		BodyCodec:     int(m.BodyCodec()),
		Pipe:          []int{},
	}
	if out.Status, err = statusFields(m.Status()); err != nil {
		return nil, err
	}
	for k, v := range m.Meta().Map() {
		out.Meta[gconv.String(k)] = gconv.String(v)
	}
	switch b := m.Body().(type) {
	case *[]byte:
		if b != nil {
			out.BodyHex = hex.EncodeToString(*b)
		}
	case []byte:
		out.BodyHex = hex.EncodeToString(b)
	case nil:
	default:
		return nil, fmt.Errorf("unexpected body type %T", b)
	}
	for _, id := range m.PipeTFilter().IDs() {
		out.Pipe = append(out.Pipe, int(id))
	}
	if in.Proto == "raw" && buf.Len() > 0 {
		out.TrailingHex = hex.EncodeToString(buf.Bytes())
	}
	return out, nil
}

func runOp(raw json.RawMessage) (res interface{}) {
	defer func() {
		if p := recover(); p != nil {
			res = errOut{Error: fmt.Sprintf("panic: %v", p)}
		}
	}()
	var in opIn
	if err := json.Unmarshal(raw, &in); err != nil {
		return errOut{Error: "bad op: " + err.Error()}
	}
	var err error
	switch in.Op {
	case "pack":
		res, err = doPack(&in)
	case "unpack":
		res, err = doUnpack(&in)
	default:
		err = fmt.Errorf("unknown op %q", in.Op)
	}
	if err != nil {
		return errOut{Error: err.Error()}
	}
	return res
}

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var doc struct {
		Ops []json.RawMessage `json:"ops"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		fail(fmt.Errorf("bad input document: %v", err))
	}
	if doc.Ops == nil {
		fail(errors.New(`bad input document: missing "ops" array`))
	}
	results := make([]interface{}, 0, len(doc.Ops))
	for _, op := range doc.Ops {
		results = append(results, runOp(op))
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]interface{}{"results": results}); err != nil {
		fail(err)
	}
}

// fail reports a document-level error as {"error":...} and exits 1.
func fail(err error) {
	b, _ := json.Marshal(errOut{Error: err.Error()})
	fmt.Fprintln(os.Stdout, string(b))
	os.Exit(1)
}
