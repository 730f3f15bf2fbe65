// Command client is a real DMicro drpc client for interop tests: it dials OUR
// Node endpoint and runs the interop matrix with DMicro's own client code.
//
//	client -addr 127.0.0.1:PORT [-mode ws|tcp] [-path /ws] [-checks matrix,heartbeat,auth,msgpack] [-token T] [-bad-token T]
//
// Mode ws uses DMicro's WebSocket mixer client (x/net/websocket) with the RAW
// proto as sub-protocol, URL ws://ADDR<path>; mode tcp a plain drpc TCP
// endpoint with the RAW proto. With -token every session sends AUTH_CALL
// (plain codec) with this token first; with -bad-token the "auth" group also
// expects a dial with that token to be refused.
//
// Prints one JSON line per check on stdout: {"name":..,"ok":bool,"detail":..}.
// Exits 0 once every check has reported (failures are in the lines); exits 2 on
// bad flags. DMicro's logs go to stderr.
//
// The Node side must serve: CALL /math/add {a,b}; /echo/body (same bytes, same
// codec); /echo/meta (request meta as a JSON object, also set on the reply meta);
// /status/bad 400, /status/unauth 401, /status/internal 500 "database exploded",
// /status/custom 1234 "custom failure" "because"; /push/me {n,gzip} (n PUSH
// /client/news {"i":k}, gzip pipe when asked, then {"pushed":n}); /callback/ask
// {q,gzip} (CALLs /client/answer with q and replies the answer); /sleep {ms};
// PUSH /client/hello counted per session, CALL /stats/pushes; heartbeat pong;
// with auth, AUTH_REPLY "ok" for the good token and 401 "invalid token" otherwise.
// The msgpack group needs CALL /msgpack/echo: the msgpack body decoded and
// replied again in msgpack (the SDK's codec 'm', registered here as internal/mpcodec).
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"drpcinterop/internal/mpcodec"

	"github.com/gogf/gf/v2/os/glog"
	"github.com/gogf/gf/v2/util/gconv"
	"github.com/osgochina/dmicro/drpc"
	"github.com/osgochina/dmicro/drpc/codec"
	"github.com/osgochina/dmicro/drpc/message"
	"github.com/osgochina/dmicro/drpc/mixer/websocket"
	"github.com/osgochina/dmicro/drpc/plugin/auth"
	"github.com/osgochina/dmicro/drpc/plugin/heartbeat"
	"github.com/osgochina/dmicro/drpc/proto/rawproto"
	"github.com/osgochina/dmicro/drpc/tfilter"
	"github.com/vmihailenco/msgpack/v5"
)

var (
	addr     = flag.String("addr", "", "host:port of the Node endpoint (required)")
	mode     = flag.String("mode", "ws", "ws (WebSocket mixer, RAW sub-protocol) or tcp (plain TCP, RAW)")
	path     = flag.String("path", "/ws", "WebSocket path (ws mode)")
	checks   = flag.String("checks", "matrix,heartbeat", "comma-separated groups: matrix, heartbeat, auth, msgpack")
	token    = flag.String("token", "", "AUTH_CALL token for every session (empty = no auth)")
	badToken = flag.String("bad-token", "", "auth group: a dial with this token must be refused")
	hbRate   = flag.Int("hb-rate", 3, "heartbeat rate in seconds")
)

const callTimeout = 10 * time.Second

// ---------------------------------------------------------------- output

var outMu sync.Mutex

func check(name string, ok bool, format string, args ...interface{}) {
	line, _ := json.Marshal(struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	}{*mode + " " + name, ok, fmt.Sprintf(format, args...)})
	outMu.Lock()
	fmt.Println(string(line))
	outMu.Unlock()
}

// ---------------------------------------------------------------- the bytes codec ('b', 98)

// bytesCodec is the SDK's raw-bytes codec id 'b' (98), registered here to
// interoperate (docs/protocol.md: "register a codec with the same id").
type bytesCodec struct{}

func (bytesCodec) ID() byte     { return 'b' }
func (bytesCodec) Name() string { return "bytes" }
func (bytesCodec) Marshal(v interface{}) ([]byte, error) {
	switch b := v.(type) {
	case nil:
		return []byte{}, nil
	case []byte:
		return b, nil
	case *[]byte:
		return *b, nil
	}
	return nil, fmt.Errorf("bytes codec: cannot marshal %T", v)
}
func (bytesCodec) Unmarshal(data []byte, v interface{}) error {
	if b, ok := v.(*[]byte); ok {
		*b = append((*b)[:0], data...)
		return nil
	}
	return fmt.Errorf("bytes codec: cannot unmarshal into %T", v)
}

// ---------------------------------------------------------------- pipes seen on inbound messages

// pipeRecorder remembers the transfer filter pipe of inbound REPLY, CALL and
// PUSH messages, keyed by session id and seq.
type pipeRecorder struct {
	mu    sync.Mutex
	pipes map[string]string
}

var recorder = &pipeRecorder{pipes: map[string]string{}}

func pipeKey(sessID string, seq int32) string { return fmt.Sprintf("%s/%d", sessID, seq) }

func (r *pipeRecorder) Name() string { return "interop-pipe-recorder" }
func (r *pipeRecorder) record(ctx drpc.ReadCtx) *drpc.Status {
	r.mu.Lock()
	r.pipes[pipeKey(ctx.Session().ID(), ctx.Seq())] = string(ctx.Input().PipeTFilter().IDs())
	r.mu.Unlock()
	return nil
}
func (r *pipeRecorder) AfterReadReplyHeader(ctx drpc.ReadCtx) *drpc.Status { return r.record(ctx) }
func (r *pipeRecorder) AfterReadCallHeader(ctx drpc.ReadCtx) *drpc.Status  { return r.record(ctx) }
func (r *pipeRecorder) AfterReadPushHeader(ctx drpc.ReadCtx) *drpc.Status  { return r.record(ctx) }
func (r *pipeRecorder) get(sessID string, seq int32) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pipes[pipeKey(sessID, seq)]
}

var (
	_ drpc.AfterReadReplyHeaderPlugin = recorder
	_ drpc.AfterReadCallHeaderPlugin  = recorder
	_ drpc.AfterReadPushHeaderPlugin  = recorder
)

// ---------------------------------------------------------------- client routes (served by Go, called by Node)

type newsItem struct {
	I    int
	Pipe string
}

var (
	newsMu sync.Mutex
	news   = map[string][]newsItem{} // by session id
)

// Answer serves CALL /client/answer: "answer to <q>", plus " via <pipe>" when
// the CALL came through a transfer filter pipe.
func Answer(ctx drpc.CallCtx, q *string) (string, *drpc.Status) {
	out := "answer to " + *q
	if p := recorder.get(ctx.Session().ID(), ctx.Seq()); p != "" {
		out += " via " + p
	}
	return out, nil
}

type NewsArg struct {
	I int `json:"i"`
}

// News serves PUSH /client/news.
func News(ctx drpc.PushCtx, arg *NewsArg) *drpc.Status {
	id := ctx.Session().ID()
	item := newsItem{I: arg.I, Pipe: recorder.get(id, ctx.Seq())}
	newsMu.Lock()
	news[id] = append(news[id], item)
	newsMu.Unlock()
	return nil
}

func takeNews(id string) []newsItem {
	newsMu.Lock()
	defer newsMu.Unlock()
	got := news[id]
	delete(news, id)
	sort.Slice(got, func(a, b int) bool { return got[a].I < got[b].I }) // Go runs PUSH handlers concurrently
	return got
}

// ---------------------------------------------------------------- dialing

func bearer(tok string, reply *string) drpc.Plugin {
	return auth.NewBearerPlugin(func(sess auth.Session, fn auth.SendOnce) *drpc.Status {
		return fn(tok, reply)
	}, message.WithBodyCodec(codec.PlainName))
}

// dial opens a session to the Node endpoint with DMicro's own client: routes
// /client/answer and /client/news, the pipe recorder, and the token (if any).
func dial(tok string, extra ...drpc.Plugin) (drpc.Session, string, *drpc.Status) {
	var authReply string
	plugins := append([]drpc.Plugin{recorder}, extra...)
	if tok != "" {
		plugins = append(plugins, bearer(tok, &authReply))
	}
	cfg := drpc.EndpointConfig{Network: "tcp", LocalIP: "127.0.0.1", DialTimeout: 5 * time.Second}
	var ep drpc.Endpoint
	if *mode == "tcp" {
		ep = drpc.NewEndpoint(cfg, plugins...)
	} else {
		ep = websocket.NewClient(*path, cfg, plugins...)
	}
	sr := ep.SubRoute("client")
	sr.RouteCallFunc(Answer)
	sr.RoutePushFunc(News)
	sess, stat := ep.Dial(*addr, rawproto.NewRawProtoFunc())
	return sess, authReply, stat
}

// call is Session.Call bounded by callTimeout (drpc calls have no timeout of their own).
func call(sess drpc.Session, sm string, arg, result interface{}, settings ...message.MsgSetting) (drpc.CallCmd, *drpc.Status) {
	cmd := sess.AsyncCall(sm, arg, result, make(chan drpc.CallCmd, 1), settings...)
	select {
	case <-cmd.Done():
		return cmd, cmd.Status()
	case <-time.After(callTimeout):
		return cmd, drpc.NewStatus(drpc.CodeHandleTimeout, "interop client: no REPLY within "+callTimeout.String())
	}
}

func replyMeta(cmd drpc.CallCmd) map[string]string {
	out := map[string]string{}
	if m := cmd.InputMeta(); m != nil {
		m.Iterator(func(k, v interface{}) bool { out[gconv.String(k)] = gconv.String(v); return true })
	}
	return out
}

func statText(s *drpc.Status) string {
	if s == nil {
		return "<nil>"
	}
	cause := ""
	if s.Cause() != nil {
		cause = s.Cause().Error()
	}
	return fmt.Sprintf("code=%d msg=%q cause=%q", s.Code(), s.Msg(), cause)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// ---------------------------------------------------------------- the matrix

func matrix() {
	sess, _, stat := dial(*token)
	if !stat.OK() {
		check("dial", false, "%s", statText(stat))
		return
	}
	defer sess.Close()
	check("dial", true, "session %s -> %s", sess.LocalAddr(), sess.RemoteAddr())
	id := sess.ID()

	// calls with a json body
	var sum float64
	_, stat = call(sess, "/math/add", map[string]float64{"a": 2, "b": 3.5}, &sum)
	check("call /math/add (json)", stat.OK() && sum == 5.5, "%s sum=%v", statText(stat), sum)

	// bodies: json, plain, bytes — echoed byte for byte with the same codec
	bodies := []struct {
		name, codec string
		id          byte
		body        []byte
	}{
		{"json", codec.JsonName, codec.JsonId, []byte(`{"k":"v","n":1,"s":"é\"q\""}`)},
		{"plain", codec.PlainName, codec.PlainId, []byte("plain text \"q\" é\n\x00\x01 中")},
		{"bytes", "bytes", 'b', randomBytes(300)},
	}
	for _, b := range bodies {
		var out []byte
		cmd, stat := call(sess, "/echo/body", b.body, &out, message.WithBodyCodec(b.codec))
		check("echo body "+b.name, stat.OK() && bytes.Equal(out, b.body) && cmd.InputBodyCodec() == b.id,
			"%s codec=%d len=%d/%d", statText(stat), cmd.InputBodyCodec(), len(out), len(b.body))
	}

	// meta both ways
	var metaBody map[string]string
	cmd, stat := call(sess, "/echo/meta", nil, &metaBody, message.WithSetMeta("k1", "v1"), message.WithSetMeta("X-Z", "<&> é"))
	rm := replyMeta(cmd)
	check("meta both ways", stat.OK() && metaBody["k1"] == "v1" && metaBody["X-Z"] == "<&> é" && rm["k1"] == "v1" && rm["X-Z"] == "<&> é",
		"%s body=%v replyMeta=%v", statText(stat), metaBody, rm)

	// every status, exact code, msg and cause
	statuses := []struct {
		route      string
		code       int32
		msg, cause string
	}{
		{"/status/bad", 400, "Bad Message", ""},
		{"/status/unauth", 401, "Unauthorized", ""},
		{"/status/internal", 500, "Internal Server Error", "database exploded"},
		{"/status/custom", 1234, "custom failure", "because"},
		{"/no/such/route", 404, "Not Found", `no CALL route for "/no/such/route"`},
	}
	for _, s := range statuses {
		var out interface{}
		_, stat := call(sess, s.route, nil, &out)
		cause := ""
		if stat.Cause() != nil {
			cause = stat.Cause().Error()
		}
		// dmicro's Cause() invents a cause from msg when the wire cause is empty
		okCause := cause == s.cause || (s.cause == "" && cause == s.msg)
		check(fmt.Sprintf("status %d %s", s.code, s.route), stat.Code() == s.code && stat.Msg() == s.msg && okCause, "%s", statText(stat))
	}

	// Node pushes to Go (session.push from a Node handler)
	var pushed map[string]int
	_, stat = call(sess, "/push/me", map[string]interface{}{"n": 3}, &pushed)
	time.Sleep(100 * time.Millisecond)
	got := takeNews(id)
	check("push Node->Go", stat.OK() && pushed["pushed"] == 3 && fmt.Sprint(got) == "[{0 } {1 } {2 }]", "%s reply=%v news=%v", statText(stat), pushed, got)

	// Go pushes to Node
	for i := 0; i < 4; i++ {
		if st := sess.Push("/client/hello", map[string]int{"i": i}); !st.OK() {
			check("push Go->Node", false, "push %d: %s", i, statText(st))
		}
	}
	var n int
	_, stat = call(sess, "/stats/pushes", map[string]string{}, &n)
	check("push Go->Node", stat.OK() && n == 4, "%s counted=%d", statText(stat), n)

	// Node calls Go (server -> client CALL) inside a Go -> Node CALL
	var ans string
	_, stat = call(sess, "/callback/ask", map[string]interface{}{"q": "life"}, &ans)
	check("call Node->Go", stat.OK() && ans == "answer to life", "%s answer=%q", statText(stat), ans)

	// gzip, Go -> Node: a gzip CALL, the REPLY comes back through the same pipe
	sum = 0
	cmd, stat = call(sess, "/math/add", map[string]float64{"a": 40, "b": 2}, &sum, message.WithTFilterPipe(tfilter.GzipId))
	pipe := recorder.get(id, cmd.Output().Seq())
	check("gzip Go->Node call, reply piped", stat.OK() && sum == 42 && pipe == "z", "%s sum=%v reply pipe=%q", statText(stat), sum, pipe)
	sum = 0
	cmd, stat = call(sess, "/math/add", map[string]float64{"a": 1, "b": 2}, &sum, message.WithTFilterPipe(tfilter.GzipId, tfilter.Md5Id))
	pipe = recorder.get(id, cmd.Output().Seq())
	check("gzip+md5 Go->Node call", stat.OK() && sum == 3 && pipe == "z5", "%s sum=%v reply pipe=%q", statText(stat), sum, pipe)

	// gzip, Node -> Go: gzip PUSHes and a gzip server -> client CALL
	pushed = nil
	_, stat = call(sess, "/push/me", map[string]interface{}{"n": 2, "gzip": true}, &pushed)
	time.Sleep(100 * time.Millisecond)
	got = takeNews(id)
	check("gzip Node->Go push", stat.OK() && pushed["pushed"] == 2 && fmt.Sprint(got) == "[{0 z} {1 z}]", "%s news=%v", statText(stat), got)
	ans = ""
	_, stat = call(sess, "/callback/ask", map[string]interface{}{"q": "zip", "gzip": true}, &ans)
	check("gzip Node->Go call", stat.OK() && ans == "answer to zip via z", "%s answer=%q", statText(stat), ans)

	// concurrent calls, replies out of order
	ch := make(chan drpc.CallCmd, 2)
	var r1, r2 int
	c1 := sess.AsyncCall("/sleep", map[string]int{"ms": 300}, &r1, ch)
	c2 := sess.AsyncCall("/sleep", map[string]int{"ms": 10}, &r2, ch)
	var first drpc.CallCmd
	select {
	case first = <-ch:
		<-ch
	case <-time.After(callTimeout):
	}
	check("concurrent calls, out-of-order replies", first == c2 && c1.Status().OK() && c2.Status().OK() && r1 == 300 && r2 == 10,
		"second call replied first=%v r1=%d r2=%d", first == c2, r1, r2)

	const many = 50
	results := make([]float64, many)
	cmds := make([]drpc.CallCmd, many)
	done := make(chan drpc.CallCmd, many)
	for i := 0; i < many; i++ {
		cmds[i] = sess.AsyncCall("/math/add", map[string]int{"a": i, "b": 1000}, &results[i], done)
	}
	bad := 0
	for i := 0; i < many; i++ {
		select {
		case <-done:
		case <-time.After(callTimeout):
			bad++
		}
	}
	for i := 0; i < many; i++ {
		if !cmds[i].Status().OK() || results[i] != float64(i+1000) {
			bad++
		}
	}
	check(fmt.Sprintf("%d concurrent calls matched by seq", many), bad == 0, "mismatches=%d", bad)

	// a 1 MiB body both ways (bytes codec)
	big := randomBytes(1 << 20)
	var echoed []byte
	_, stat = call(sess, "/echo/body", big, &echoed, message.WithBodyCodec("bytes"))
	check("1 MiB body", stat.OK() && bytes.Equal(echoed, big), "%s len=%d", statText(stat), len(echoed))

	// the session is still fine after all that
	sum = 0
	_, stat = call(sess, "/math/add", map[string]float64{"a": 1, "b": 1}, &sum)
	check("session healthy at the end", stat.OK() && sum == 2 && sess.Health(), "%s", statText(stat))
}

// ---------------------------------------------------------------- heartbeat

func closedWithin(sess drpc.Session, d time.Duration) bool {
	select {
	case <-sess.CloseNotify():
		return true
	case <-time.After(d):
		return false
	}
}

// heartbeatAlive: DMicro's ping (as PUSH, RpcClient's default) keeps an otherwise idle
// session alive on our endpoint beyond 2 x rate.
func heartbeatAlive() {
	rate := time.Duration(*hbRate) * time.Second
	sess, _, stat := dial(*token, heartbeat.NewPing(*hbRate, false))
	if !stat.OK() {
		check("heartbeat: Go ping keeps the session alive", false, "dial: %s", statText(stat))
		return
	}
	defer sess.Close()
	wait := 2*rate + rate/2
	closed := closedWithin(sess, wait)
	var sum float64
	_, stat = call(sess, "/math/add", map[string]float64{"a": 1, "b": 2}, &sum)
	check("heartbeat: Go ping keeps the session alive", !closed && stat.OK() && sum == 3,
		"idle for %v (rate %v): closed=%v then %s", wait, rate, closed, statText(stat))
}

// heartbeatSilent: a session that announced a rate and then stays silent is
// closed by our endpoint's pong within about 2 x rate.
func heartbeatSilent() {
	rate := time.Duration(*hbRate) * time.Second
	sess, _, stat := dial(*token)
	if !stat.OK() {
		check("heartbeat: silent session closed by the Node pong", false, "dial: %s", statText(stat))
		return
	}
	defer sess.Close()
	start := time.Now()
	stat = sess.Push("/heartbeat", nil, message.WithSetMeta("hb_", fmt.Sprint(*hbRate)))
	closed := closedWithin(sess, 4*rate)
	el := time.Since(start)
	check("heartbeat: silent session closed by the Node pong", stat.OK() && closed && el >= 2*rate && el <= 2*rate+2*time.Second,
		"push %s; closed=%v after %v (2 x rate = %v)", statText(stat), closed, el.Round(time.Millisecond), 2*rate)
}

// ---------------------------------------------------------------- auth

func authChecks() {
	sess, reply, stat := dial(*token)
	if stat.OK() {
		var sum float64
		_, st := call(sess, "/math/add", map[string]float64{"a": 1, "b": 1}, &sum)
		check("auth accepted", st.OK() && sum == 2 && reply == "ok", "AUTH_REPLY %q, then %s", reply, statText(st))
		sess.Close()
	} else {
		check("auth accepted", false, "dial: %s", statText(stat))
	}
	if *badToken == "" {
		return
	}
	sess, _, stat = dial(*badToken)
	if stat.OK() {
		sess.Close()
	}
	// DMicro's dialer reports a failed AfterDial as 105 Dial Failed whose cause is the AUTH_REPLY's cause
	cause := ""
	if stat.Cause() != nil {
		cause = stat.Cause().Error()
	}
	check("auth rejected", stat.Code() == drpc.CodeDialFailed && cause == "invalid token", "%s", statText(stat))
}

// ---------------------------------------------------------------- msgpack

// msgpackInts are the integers at the msgpack format boundaries, and the
// int64s beyond 2^53 that the SDK can only hold as a bigint.
var msgpackInts = []int64{
	0, 127, 128, 255, 256, 65535, 65536, math.MaxUint32, 1 << 32, 1<<53 - 1, 1 << 53, 1<<53 + 1, math.MaxInt64,
	-1, -32, -33, -128, -129, -32768, -32769, math.MinInt32, math.MinInt32 - 1, -(1<<53 - 1), -(1 << 53), math.MinInt64,
}

// msgpackSample is what the Go client sends; test/interop/msgpack.test.ts
// expects exactly this, as JavaScript values, on the Node side.
func msgpackSample() mpcodec.Typed {
	bin := make([]byte, 300)
	for i := range bin {
		bin[i] = byte(i)
	}
	return mpcodec.Typed{
		I64:    math.MinInt64,
		U64:    math.MaxUint64,
		I32:    math.MinInt32,
		F64:    -0.1,
		Str:    "héllo 😀 中",
		Bin:    bin,
		Flag:   true,
		At:     time.Unix(1700000000, 123456789).UTC(), // finer than a JS Date: Node keeps 123 ms
		Counts: map[string]int64{"a": -1, "é": 1 << 40, "max": math.MaxInt64},
		List:   []string{"", "x", strings.Repeat("é", 200), strings.Repeat("z", 70000)},
		Inner:  mpcodec.Inner{Name: "in", Level: -5}, // nil Tags: msgpack nil
		Ptr:    &mpcodec.Inner{Name: "p", Level: math.MaxInt32, Tags: []string{"t"}},
		Ints:   msgpackInts,
		Floats: []float64{0.1, -2.5, 1e300, 5e-324, math.Inf(-1), 3},
		Times: []time.Time{
			time.Unix(0, 0), time.Unix(-1, 0), time.Unix(-2, 500000001), time.Unix(1<<32, 0),
			time.Unix(1<<34, 999000000), time.Unix(-62135596800, 0),
		},
	}
}

// msgpackChecks CALLs /msgpack/echo on our endpoint with msgpackSample: what
// comes back must be the same value (times cut to milliseconds, as a JS Date
// holds them), each integer in the smallest format the SDK promises.
func msgpackChecks() {
	sess, _, stat := dial(*token)
	if !stat.OK() {
		check("msgpack echo", false, "dial: %s", statText(stat))
		return
	}
	defer sess.Close()
	sent := msgpackSample()
	var raw []byte // the reply bytes as they came: decoded below by the registered codec, and their formats read
	cmd, stat := call(sess, "/msgpack/echo", &sent, &raw, message.WithBodyCodec(mpcodec.Name))
	if !stat.OK() || cmd.InputBodyCodec() != mpcodec.ID {
		check("msgpack echo", false, "%s reply codec=%d", statText(stat), cmd.InputBodyCodec())
		check("msgpack reply formats", false, "no reply")
		return
	}
	var got mpcodec.Typed
	err := codec.Unmarshal(cmd.InputBodyCodec(), raw, &got)
	want := msgpackSample()
	want.At = want.At.Truncate(time.Millisecond)
	for i, t := range want.Times {
		want.Times[i] = t.Truncate(time.Millisecond)
	}
	// the decoder gives local times: compare instants
	got.At = got.At.UTC()
	for i, t := range got.Times {
		got.Times[i] = t.UTC()
	}
	for i, t := range want.Times {
		want.Times[i] = t.UTC()
	}
	same := err == nil && reflect.DeepEqual(want, got)
	detail := fmt.Sprintf("err=%v", err)
	if !same {
		got.List, want.List = nil, nil // 70 KB of text would drown the difference
		detail += fmt.Sprintf("\nwant %+v\n got %+v", want, got)
	}
	check("msgpack echo", same, "%s", detail)

	// Expected formats: Go's compact encoder's choice for the safe integers, the 64-bit
	// forms for the rest (bigints on the Node side).
	var wantWire []string
	for _, n := range msgpackInts {
		if n > -(1<<53) && n < 1<<53 {
			var buf bytes.Buffer
			enc := msgpack.NewEncoder(&buf)
			enc.UseCompactInts(true) // without it an int64 is always 0xd3
			_ = enc.Encode(n)
			w, _ := mpcodec.Wire(buf.Bytes())
			wantWire = append(wantWire, fmt.Sprint(w))
		} else if n >= 0 {
			wantWire = append(wantWire, fmt.Sprintf("cf uint64 %d", n))
		} else {
			wantWire = append(wantWire, fmt.Sprintf("d3 int64 %d", n))
		}
	}
	w, err := mpcodec.Wire(raw)
	var gotWire interface{}
	if m, ok := w.(map[string]interface{}); ok {
		gotWire = m["ints"]
	}
	check("msgpack reply formats", err == nil && fmt.Sprint(gotWire) == fmt.Sprint(wantWire),
		"err=%v\nwant %v\n got %v", err, wantWire, gotWire)
}

// ---------------------------------------------------------------- main

func main() {
	flag.Parse()
	if *addr == "" || (*mode != "ws" && *mode != "tcp") {
		fmt.Fprintln(os.Stderr, "client: need -addr host:port and -mode ws|tcp")
		os.Exit(2)
	}
	lg := glog.DefaultLogger()
	lg.SetStdoutPrint(false)
	lg.SetWriter(os.Stderr)
	lg.SetLevel(glog.LEVEL_WARN | glog.LEVEL_ERRO | glog.LEVEL_CRIT)
	tfilter.RegGzip(5)
	tfilter.RegMD5()
	codec.Reg(bytesCodec{})
	mpcodec.Register()

	groups := map[string]bool{}
	for _, g := range strings.Split(*checks, ",") {
		groups[strings.TrimSpace(g)] = true
	}
	// a hung check must not hang the test: report and leave
	go func() {
		time.Sleep(60 * time.Second)
		check("watchdog", false, "checks did not finish within 60s")
		os.Exit(1)
	}()

	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	if groups["heartbeat"] { // slow: run beside the rest
		run(heartbeatAlive)
		run(heartbeatSilent)
	}
	if groups["matrix"] {
		matrix()
	}
	if groups["auth"] {
		authChecks()
	}
	if groups["msgpack"] {
		msgpackChecks()
	}
	wg.Wait()
}
