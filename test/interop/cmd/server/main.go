// Command server is a real DMicro drpc peer for interop tests.
//
//	server [-ws-raw PORT] [-ws-json PORT] [-tcp PORT] [-auth] [-quiet]
//
// Listens on 127.0.0.1 only:
//   - ws-raw:  WebSocket mixer (root path /ws), sub-protocol = RAW proto
//   - ws-json: WebSocket mixer (root path /ws), the mixer's default JSON sub-proto
//   - tcp:     plain TCP, RAW proto
//
// Prints the route list to stderr, then one line "READY" on stdout once every
// listener is bound. DMicro's own logs go to stderr. Stops on SIGTERM/SIGINT.
// Registers the SDK's msgpack codec 'm' (internal/mpcodec) for /msgpack/typed.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"drpcinterop/internal/mpcodec"

	"github.com/gogf/gf/v2/os/glog"
	"github.com/gogf/gf/v2/util/gconv"
	"github.com/osgochina/dmicro/drpc"
	"github.com/osgochina/dmicro/drpc/codec"
	"github.com/osgochina/dmicro/drpc/mixer/websocket"
	"github.com/osgochina/dmicro/drpc/plugin/auth"
	"github.com/osgochina/dmicro/drpc/plugin/heartbeat"
	"github.com/osgochina/dmicro/drpc/proto/rawproto"
	"github.com/osgochina/dmicro/drpc/tfilter"
	"github.com/vmihailenco/msgpack/v5"
)

const (
	rootPath  = "/ws"
	goodToken = "good-token"
)

// ---------------------------------------------------------------- handlers

// Math: CALL /math/add
type Math struct{ drpc.CallCtx }

type AddArgs struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

func (m *Math) Add(arg *AddArgs) (float64, *drpc.Status) {
	return arg.A + arg.B, nil
}

// Echo: CALL /echo/body, /echo/meta
type Echo struct{ drpc.CallCtx }

// Body returns the request body bytes verbatim, with the request's codec.
func (e *Echo) Body(arg *[]byte) ([]byte, *drpc.Status) {
	e.SetBodyCodec(e.GetBodyCodec())
	if arg == nil {
		return []byte{}, nil
	}
	return *arg, nil
}

// Meta returns the request meta as a JSON object and sets every request
// meta key back on the reply meta.
func (e *Echo) Meta(_ *[]byte) (map[string]string, *drpc.Status) {
	out := map[string]string{}
	e.VisitMeta(func(k, v interface{}) bool {
		ks, vs := gconv.String(k), gconv.String(v)
		out[ks] = vs
		e.SetMeta(ks, vs)
		return true
	})
	e.SetBodyCodec(codec.JsonId)
	return out, nil
}

// Status: CALL /status/bad, /status/unauth, /status/internal, /status/custom
type Status struct{ drpc.CallCtx }

func (s *Status) Bad(_ *[]byte) (*struct{}, *drpc.Status) {
	return nil, drpc.NewStatus(drpc.CodeBadMessage, drpc.CodeText(drpc.CodeBadMessage))
}

func (s *Status) Unauth(_ *[]byte) (*struct{}, *drpc.Status) {
	return nil, drpc.NewStatus(drpc.CodeUnauthorized, drpc.CodeText(drpc.CodeUnauthorized))
}

func (s *Status) Internal(_ *[]byte) (*struct{}, *drpc.Status) {
	return nil, drpc.NewStatus(drpc.CodeInternalServerError,
		drpc.CodeText(drpc.CodeInternalServerError), "database exploded")
}

func (s *Status) Custom(_ *[]byte) (*struct{}, *drpc.Status) {
	return nil, drpc.NewStatus(1234, "custom failure", "because")
}

// Push: CALL /push/me
type Push struct{ drpc.CallCtx }

type PushMeArgs struct {
	N int `json:"n"`
}

type News struct {
	I int `json:"i"`
}

type PushedReply struct {
	Pushed int `json:"pushed"`
}

// Me pushes n PUSH /client/news {"i":k} (k = 0..n-1) to the caller, then replies {"pushed":n}.
func (p *Push) Me(arg *PushMeArgs) (*PushedReply, *drpc.Status) {
	sess := p.Session()
	for k := 0; k < arg.N; k++ {
		if stat := sess.Push("/client/news", &News{I: k}, drpc.WithBodyCodec(codec.JsonName)); !stat.OK() {
			return nil, stat
		}
	}
	return &PushedReply{Pushed: arg.N}, nil
}

// Callback: CALL /callback/ask
type Callback struct{ drpc.CallCtx }

type AskArgs struct {
	Q string `json:"q"`
}

const callbackTimeout = 5 * time.Second

// Ask makes a server->client CALL /client/answer with body q (JSON string),
// and replies with the client's answer bytes (same codec) or its status.
func (c *Callback) Ask(arg *AskArgs) ([]byte, *drpc.Status) {
	ctx, cancel := context.WithTimeout(context.Background(), callbackTimeout)
	defer cancel()
	var answer []byte
	cmd := c.Session().AsyncCall("/client/answer", arg.Q, &answer, make(chan drpc.CallCmd, 1),
		drpc.WithContext(ctx), drpc.WithBodyCodec(codec.JsonName))
	select {
	case <-cmd.Done():
	case <-ctx.Done():
		return nil, drpc.NewStatus(drpc.CodeHandleTimeout, drpc.CodeText(drpc.CodeHandleTimeout),
			"no REPLY to /client/answer within "+callbackTimeout.String())
	}
	if stat := cmd.Status(); !stat.OK() {
		return nil, stat
	}
	c.SetBodyCodec(cmd.InputBodyCodec())
	if answer == nil {
		answer = []byte{}
	}
	return answer, nil
}

// Sleep: CALL /sleep
type SleepArgs struct {
	MS int `json:"ms"`
}

func Sleep(ctx drpc.CallCtx, arg *SleepArgs) (int, *drpc.Status) {
	time.Sleep(time.Duration(arg.MS) * time.Millisecond)
	return arg.MS, nil
}

// push bookkeeping for PUSH /client/hello and CALL /stats/pushes
var (
	pushTotal     int64
	pushBySession sync.Map // drpc.CtxSession -> *int64
)

// Client: PUSH /client/hello
type Client struct{ drpc.PushCtx }

func (c *Client) Hello(_ *[]byte) *drpc.Status {
	atomic.AddInt64(&pushTotal, 1)
	v, _ := pushBySession.LoadOrStore(c.Session(), new(int64))
	atomic.AddInt64(v.(*int64), 1)
	return nil
}

// Stats: CALL /stats/pushes
type Stats struct{ drpc.CallCtx }

type StatsArgs struct {
	Scope string `json:"scope"`
}

// Pushes returns how many PUSH /client/hello this session sent
// (or the whole process if args are {"scope":"all"}).
func (s *Stats) Pushes(arg *StatsArgs) (int64, *drpc.Status) {
	if arg.Scope == "all" {
		return atomic.LoadInt64(&pushTotal), nil
	}
	if v, ok := pushBySession.Load(s.Session()); ok {
		return atomic.LoadInt64(v.(*int64)), nil
	}
	return 0, nil
}

// Msgpack: CALL /msgpack/typed
type Msgpack struct{ drpc.CallCtx }

// TypedReply shows how Go read a msgpack body: the struct echoed back, facts
// only Go can compute from it, and the formats the body was written in.
type TypedReply struct {
	Echo       mpcodec.Typed     `msgpack:"echo"`
	Codec      int               `msgpack:"codec"` // the request's body codec id, as DMicro read it
	Wire       interface{}       `msgpack:"wire"`  // mpcodec.Wire of the request body
	Seen       map[string]string `msgpack:"seen"`  // "%T/%v" (or close) of the decoded fields
	BinLen     int               `msgpack:"binLen"`
	BinSHA256  string            `msgpack:"binSha256"`
	AtUnixNano int64             `msgpack:"atUnixNano"`
	TimesUnix  []string          `msgpack:"timesUnix"` // "<sec>.<9-digit ns>": UnixNano overflows before 1678 and after 2262
	CountsSum  int64             `msgpack:"countsSum"`
	ListInfo   []string          `msgpack:"listInfo"`   // "<bytes> <runes> <valid UTF-8>" per string
	ListQuoted []string          `msgpack:"listQuoted"` // %+q of the strings up to 64 bytes ("" for longer ones)
	F64Bits    string            `msgpack:"f64Bits"`    // IEEE 754 bits in hex: exact, unlike any decimal text
	FloatsBits []string          `msgpack:"floatsBits"`
	F32        float32           `msgpack:"f32"` // float32(f64): Go writes it as 0xca
	// Ints again, each as the narrowest Go type (uint8 when 0..255, int8 when -128..-1, ...): Go
	// writes each type in its own fixed-width format, so the client's decoder meets 0xcc-0xd3.
	Narrow     []interface{} `msgpack:"narrow"`
	NarrowWire interface{}   `msgpack:"narrowWire"`
	// Ints as Go's compact encoder writes them (fixints and the smallest forms), inlined as is.
	Compact     msgpack.RawMessage `msgpack:"compact"`
	CompactWire interface{}        `msgpack:"compactWire"`
}

// Typed decodes the body with the codec DMicro's registry holds for the
// request's body codec id (the raw bytes are kept for Wire), and replies in
// the same codec: DMicro's rule when the caller sends no X-Accept-Body-Codec.
func (m *Msgpack) Typed(raw *[]byte) (*TypedReply, *drpc.Status) {
	var body []byte
	if raw != nil {
		body = *raw
	}
	bad := func(err error) (*TypedReply, *drpc.Status) {
		return nil, drpc.NewStatus(drpc.CodeBadMessage, drpc.CodeText(drpc.CodeBadMessage), err.Error())
	}
	var a mpcodec.Typed
	if err := codec.Unmarshal(m.GetBodyCodec(), body, &a); err != nil {
		return bad(err)
	}
	w, err := mpcodec.Wire(body)
	if err != nil {
		return bad(err)
	}
	sum := sha256.Sum256(a.Bin)
	r := &TypedReply{
		Echo:  a,
		Codec: int(m.GetBodyCodec()),
		Wire:  w,
		Seen: map[string]string{
			"i64":    fmt.Sprintf("%T/%v", a.I64, a.I64),
			"u64":    fmt.Sprintf("%T/%v", a.U64, a.U64),
			"i32":    fmt.Sprintf("%T/%v", a.I32, a.I32),
			"f64":    fmt.Sprintf("%T/%v", a.F64, a.F64),
			"str":    fmt.Sprintf("%T/%+q", a.Str, a.Str),
			"bin":    fmt.Sprintf("%T/%d", a.Bin, len(a.Bin)),
			"flag":   fmt.Sprintf("%T/%v", a.Flag, a.Flag),
			"at":     fmt.Sprintf("%T/%s", a.At, a.At.UTC().Format(time.RFC3339Nano)),
			"counts": fmt.Sprintf("%T/%v", a.Counts, a.Counts),
			"list":   fmt.Sprintf("%T/%d", a.List, len(a.List)),
			"inner":  fmt.Sprintf("%T/%+v", a.Inner, a.Inner),
			"ptr":    fmt.Sprintf("%T/%+v", a.Ptr, a.Ptr),
			"ints":   fmt.Sprintf("%T/%v", a.Ints, a.Ints),
		},
		BinLen:     len(a.Bin),
		BinSHA256:  hex.EncodeToString(sum[:]),
		AtUnixNano: a.At.UnixNano(),
		F64Bits:    fmt.Sprintf("%016x", math.Float64bits(a.F64)),
		F32:        float32(a.F64),
	}
	for _, t := range a.Times {
		r.TimesUnix = append(r.TimesUnix, fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()))
	}
	for _, v := range a.Counts {
		r.CountsSum += v
	}
	for _, s := range a.List {
		r.ListInfo = append(r.ListInfo, fmt.Sprintf("%d %d %v", len(s), utf8.RuneCountInString(s), utf8.ValidString(s)))
		q := ""
		if len(s) <= 64 {
			q = fmt.Sprintf("%+q", s)
		}
		r.ListQuoted = append(r.ListQuoted, q)
	}
	for _, f := range a.Floats {
		r.FloatsBits = append(r.FloatsBits, fmt.Sprintf("%016x", math.Float64bits(f)))
	}
	for _, n := range a.Ints {
		r.Narrow = append(r.Narrow, narrowest(n))
	}
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	if err := enc.Encode(a.Ints); err != nil {
		return bad(err)
	}
	r.Compact = buf.Bytes()
	if r.CompactWire, err = mpcodec.Wire(r.Compact); err != nil {
		return bad(err)
	}
	nb, err := msgpack.Marshal(r.Narrow)
	if err != nil {
		return bad(err)
	}
	if r.NarrowWire, err = mpcodec.Wire(nb); err != nil {
		return bad(err)
	}
	return r, nil
}

// narrowest converts n to the smallest Go integer type holding it (unsigned when n >= 0).
func narrowest(n int64) interface{} {
	switch {
	case n >= 0 && n <= math.MaxUint8:
		return uint8(n)
	case n >= 0 && n <= math.MaxUint16:
		return uint16(n)
	case n >= 0 && n <= math.MaxUint32:
		return uint32(n)
	case n >= 0:
		return uint64(n)
	case n >= math.MinInt8:
		return int8(n)
	case n >= math.MinInt16:
		return int16(n)
	case n >= math.MinInt32:
		return int32(n)
	}
	return n
}

// ---------------------------------------------------------------- plugins

// routeLister records every route registered on an endpoint (including the
// ones plugins register, e.g. /heartbeat).
type routeLister struct {
	mu     sync.Mutex
	routes []string
}

func (r *routeLister) Name() string { return "interop-route-lister" }

func (r *routeLister) AfterRegRouter(h *drpc.Handler) error {
	kind := "CALL"
	if h.IsPush() {
		kind = "PUSH"
	}
	r.mu.Lock()
	r.routes = append(r.routes, kind+" "+h.Name())
	r.mu.Unlock()
	return nil
}

func (r *routeLister) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.routes...)
	sort.Strings(out)
	return out
}

// listenSignal signals once the endpoint's listener is bound.
type listenSignal struct {
	once sync.Once
	ch   chan string
}

func newListenSignal() *listenSignal { return &listenSignal{ch: make(chan string, 1)} }

func (l *listenSignal) signal(addr string) {
	l.once.Do(func() { l.ch <- addr })
}

func authChecker() drpc.Plugin {
	return auth.NewCheckerPlugin(func(sess auth.Session, recv auth.ReCvOnce) (interface{}, *drpc.Status) {
		// Capture the raw AUTH_CALL body so that any codec works; accept the
		// token as plain text or as a JSON string.
		var info []byte
		if stat := recv(&info); !stat.OK() {
			return nil, stat
		}
		tok := string(info)
		if uq, err := strconv.Unquote(tok); err == nil && strings.HasPrefix(tok, `"`) {
			tok = uq
		}
		if tok != goodToken {
			return nil, drpc.NewStatus(drpc.CodeUnauthorized, drpc.CodeText(drpc.CodeUnauthorized),
				"invalid token")
		}
		return "ok", nil
	}, drpc.WithBodyCodec(codec.JsonName))
}

// ---------------------------------------------------------------- main

type listener struct {
	name   string
	port   int
	lister *routeLister
	ready  *listenSignal
	close  func() error
}

func main() {
	wsRaw := flag.Int("ws-raw", envInt("WS_RAW"), "WebSocket port, RAW sub-protocol (0 = off)")
	wsJSON := flag.Int("ws-json", envInt("WS_JSON"), "WebSocket port, default JSON sub-protocol (0 = off)")
	tcpPort := flag.Int("tcp", envInt("TCP"), "plain TCP port, RAW proto (0 = off)")
	withAuth := flag.Bool("auth", os.Getenv("AUTH") == "1", `require AUTH_CALL with token "good-token"`)
	quiet := flag.Bool("quiet", os.Getenv("QUIET") == "1", "only log warnings and errors")
	flag.Parse()

	// DMicro logs through gf's default glog logger: send it to stderr so that
	// stdout only carries "READY".
	lg := glog.DefaultLogger()
	lg.SetStdoutPrint(false)
	lg.SetWriter(os.Stderr)
	if *quiet {
		lg.SetLevel(glog.LEVEL_WARN | glog.LEVEL_ERRO | glog.LEVEL_CRIT)
	}

	tfilter.RegGzip(5)
	tfilter.RegMD5()
	mpcodec.Register()

	if *wsRaw == 0 && *wsJSON == 0 && *tcpPort == 0 {
		fmt.Fprintln(os.Stderr, "server: nothing to do (give -ws-raw, -ws-json and/or -tcp)")
		os.Exit(2)
	}

	var listeners []*listener
	errCh := make(chan error, 3)

	newPlugins := func(l *listener) []drpc.Plugin {
		ps := []drpc.Plugin{l.lister, &listenHook{l.ready}, heartbeat.NewPong()}
		if *withAuth {
			ps = append(ps, authChecker(), welcome{})
		}
		return ps
	}
	cfg := func(port int) drpc.EndpointConfig {
		return drpc.EndpointConfig{
			Network:     "tcp",
			ListenIP:    "127.0.0.1",
			ListenPort:  uint16(port),
			PrintDetail: true,
		}
	}

	if *wsRaw != 0 {
		l := &listener{name: "ws-raw", port: *wsRaw, lister: &routeLister{}, ready: newListenSignal()}
		srv := websocket.NewServer(rootPath, cfg(l.port), newPlugins(l)...)
		registerRoutes(srv)
		l.close = srv.Close
		go func() { errCh <- fmt.Errorf("ws-raw: %v", srv.ListenAndServe(rawproto.NewRawProtoFunc())) }()
		listeners = append(listeners, l)
	}
	if *wsJSON != 0 {
		l := &listener{name: "ws-json", port: *wsJSON, lister: &routeLister{}, ready: newListenSignal()}
		srv := websocket.NewServer(rootPath, cfg(l.port), newPlugins(l)...)
		registerRoutes(srv)
		l.close = srv.Close
		go func() { errCh <- fmt.Errorf("ws-json: %v", srv.ListenAndServeJSON()) }()
		listeners = append(listeners, l)
	}
	if *tcpPort != 0 {
		l := &listener{name: "tcp", port: *tcpPort, lister: &routeLister{}, ready: newListenSignal()}
		ep := drpc.NewEndpoint(cfg(l.port), newPlugins(l)...)
		registerRoutes(ep)
		l.close = ep.Close
		go func() { errCh <- fmt.Errorf("tcp: %v", ep.ListenAndServe(rawproto.NewRawProtoFunc())) }()
		listeners = append(listeners, l)
	}

	for _, l := range listeners {
		select {
		case addr := <-l.ready.ch:
			fmt.Fprintf(os.Stderr, "server: %s listening on %s (auth=%v)\n", l.name, addr, *withAuth)
			for _, r := range l.lister.list() {
				fmt.Fprintf(os.Stderr, "server: %s route %s\n", l.name, r)
			}
		case err := <-errCh:
			fmt.Fprintf(os.Stderr, "server: listen failed: %v\n", err)
			os.Exit(1)
		case <-time.After(10 * time.Second):
			fmt.Fprintf(os.Stderr, "server: %s did not start listening within 10s\n", l.name)
			os.Exit(1)
		}
	}
	fmt.Println("READY")

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case s := <-sig:
		fmt.Fprintf(os.Stderr, "server: %v, shutting down\n", s)
	case err := <-errCh:
		fmt.Fprintf(os.Stderr, "server: listener stopped: %v\n", err)
		os.Exit(1)
	}
	// Closing a drpc session waits for its pending outbound CALLs, which have
	// no timeout of their own: bound the graceful close.
	done := make(chan struct{})
	go func() {
		for _, l := range listeners {
			_ = l.close()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		fmt.Fprintln(os.Stderr, "server: graceful close timed out, exiting")
	}
	os.Exit(0)
}

// welcome greets a session once its auth passed: a PUSH /client/welcome "welcome", sent during
// the accept, right behind the AUTH_REPLY and before the session reads anything (as a server
// that pushes its config on connect does). After the auth checker in the plugin list, so a
// session whose auth failed is not greeted.
type welcome struct{}

var _ drpc.AfterAcceptPlugin = welcome{}

func (welcome) Name() string { return "interop-welcome" }

func (welcome) AfterAccept(sess drpc.EarlySession) *drpc.Status {
	return sess.EarlySend(drpc.TypePush, "/client/welcome", "welcome", nil, drpc.WithBodyCodec(codec.JsonName))
}

// listenHook implements drpc.AfterListenPlugin.
type listenHook struct{ s *listenSignal }

var _ drpc.AfterListenPlugin = (*listenHook)(nil)
var _ drpc.AfterRegRouterPlugin = (*routeLister)(nil)

func (h *listenHook) Name() string { return "interop-listen-signal" }

func (h *listenHook) AfterListen(addr net.Addr) error {
	h.s.signal(addr.String())
	return nil
}

type router interface {
	RouteCall(ctrlStruct interface{}, plugin ...drpc.Plugin) []string
	RouteCallFunc(callHandleFunc interface{}, plugin ...drpc.Plugin) string
	RoutePush(ctrlStruct interface{}, plugin ...drpc.Plugin) []string
}

func registerRoutes(r router) {
	r.RouteCall(new(Math))
	r.RouteCall(new(Echo))
	r.RouteCall(new(Status))
	r.RouteCall(new(Push))
	r.RouteCall(new(Callback))
	r.RouteCall(new(Stats))
	r.RouteCall(new(Msgpack))
	r.RouteCallFunc(Sleep)
	r.RoutePush(new(Client))
}

func envInt(name string) int {
	v, _ := strconv.Atoi(os.Getenv("DRPC_INTEROP_" + name))
	return v
}
