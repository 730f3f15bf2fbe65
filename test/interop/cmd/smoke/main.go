// Command smoke checks a running cmd/server with DMicro's own Go clients and
// with hand-made raw frames.
//
//	smoke [-ws-raw PORT] [-ws-json PORT] [-tcp PORT] [-auth-tcp PORT] [-auth-ws-raw PORT] [-auth-ws-json PORT] [-heartbeat]
//
// -auth-* are the ports of a second server started with -auth.
// Prints one line per check and exits 1 if any check failed.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/gogf/gf/v2/os/glog"
	"github.com/gogf/gf/v2/util/gconv"
	"github.com/osgochina/dmicro/drpc"
	"github.com/osgochina/dmicro/drpc/codec"
	"github.com/osgochina/dmicro/drpc/mixer/websocket"
	"github.com/osgochina/dmicro/drpc/mixer/websocket/jsonSubProto"
	"github.com/osgochina/dmicro/drpc/plugin/auth"
	"github.com/osgochina/dmicro/drpc/proto/rawproto"
	"github.com/osgochina/dmicro/drpc/tfilter"
)

var failures int

func check(name string, ok bool, detail string, args ...interface{}) {
	tag := "PASS"
	if !ok {
		tag = "FAIL"
		failures++
	}
	fmt.Printf("%s %s: %s\n", tag, name, fmt.Sprintf(detail, args...))
}

// ---- client-side routes: CALL /client/answer, PUSH /client/news

var (
	newsMu sync.Mutex
	news   = map[string][]int{}
)

func Answer(ctx drpc.CallCtx, q *string) (string, *drpc.Status) {
	return "answer to " + *q, nil
}

type NewsArg struct {
	I int `json:"i"`
}

func News(ctx drpc.PushCtx, arg *NewsArg) *drpc.Status {
	newsMu.Lock()
	news[ctx.Session().LocalAddr().String()] = append(news[ctx.Session().LocalAddr().String()], arg.I)
	newsMu.Unlock()
	return nil
}

func clientRoutes(ep drpc.Endpoint) {
	sr := ep.SubRoute("client")
	sr.RouteCallFunc(Answer)
	sr.RoutePushFunc(News)
}

func cfg() drpc.EndpointConfig {
	return drpc.EndpointConfig{Network: "tcp", LocalIP: "127.0.0.1", PrintDetail: true}
}

func dial(kind string, port int, plugins ...drpc.Plugin) (drpc.Session, *drpc.Status) {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	switch kind {
	case "tcp":
		ep := drpc.NewEndpoint(cfg(), plugins...)
		clientRoutes(ep)
		return ep.Dial(addr, rawproto.NewRawProtoFunc())
	case "ws-raw":
		c := websocket.NewClient("/ws", cfg(), plugins...)
		clientRoutes(c)
		return c.Dial(addr, rawproto.NewRawProtoFunc())
	default:
		c := websocket.NewClient("/ws", cfg(), plugins...)
		clientRoutes(c)
		return c.Dial(addr, jsonSubProto.NewJSONSubProtoFunc())
	}
}

func suite(kind string, port int) {
	p := func(s string) string { return kind + " " + s }
	sess, stat := dial(kind, port)
	if !stat.OK() {
		check(p("dial"), false, "%v", stat)
		return
	}
	defer sess.Close()
	statusFidelity := kind != "ws-json" // the WS JSON sub-proto carries no status

	var sum float64
	stat = sess.Call("/math/add", map[string]float64{"a": 2, "b": 3.5}, &sum).Status()
	check(p("/math/add"), stat.OK() && sum == 5.5, "stat=%v sum=%v", stat, sum)

	if kind != "ws-json" {
		sum = 0
		stat = sess.Call("/math/add", map[string]float64{"a": 40, "b": 2}, &sum,
			drpc.WithTFilterPipe(tfilter.GzipId, tfilter.Md5Id)).Status()
		check(p("/math/add gzip+md5"), stat.OK() && sum == 42, "stat=%v sum=%v", stat, sum)
	}

	var body []byte
	// The WS JSON sub-proto puts the body bytes into a JSON string escaping
	// only '"': control bytes there make DMicro drop the session.
	text := "plain text \x00\x01 \"q\" é"
	if kind == "ws-json" {
		text = "plain text \"q\" é"
	}
	cmd := sess.Call("/echo/body", []byte(text), &body, drpc.WithBodyCodec(codec.PlainName))
	check(p("/echo/body"), cmd.Status().OK() && string(body) == text && cmd.InputBodyCodec() == codec.PlainId,
		"stat=%v body=%q codec=%d", cmd.Status(), body, cmd.InputBodyCodec())

	var meta map[string]string
	cmd = sess.Call("/echo/meta", nil, &meta, drpc.WithSetMeta("k1", "v1"), drpc.WithSetMeta("X-Z", "<&>"))
	rm := map[string]string{}
	if cmd.InputMeta() != nil {
		cmd.InputMeta().Iterator(func(k, v interface{}) bool { rm[gconv.String(k)] = gconv.String(v); return true })
	}
	check(p("/echo/meta"), cmd.Status().OK() && meta["k1"] == "v1" && meta["X-Z"] == "<&>" && rm["k1"] == "v1" && rm["X-Z"] == "<&>",
		"stat=%v body=%v replyMeta=%v", cmd.Status(), meta, rm)

	for route, code := range map[string]int32{"/status/bad": 400, "/status/unauth": 401, "/status/internal": 500, "/status/custom": 1234, "/no/such/route": 404} {
		var out interface{}
		stat = sess.Call(route, nil, &out).Status()
		if statusFidelity {
			check(p(route), stat.Code() == code, "code=%d msg=%q cause=%v", stat.Code(), stat.Msg(), stat.Cause())
		} else {
			check(p(route+" (status lost on ws-json)"), stat.OK() && out == nil, "code=%d out=%v", stat.Code(), out)
		}
	}

	var pushed map[string]int
	stat = sess.Call("/push/me", map[string]int{"n": 3}, &pushed).Status()
	time.Sleep(100 * time.Millisecond)
	newsMu.Lock()
	got := append([]int(nil), news[sess.LocalAddr().String()]...)
	newsMu.Unlock()
	sort.Ints(got) // Go runs inbound PUSH handlers concurrently: handler order != wire order
	check(p("/push/me"), stat.OK() && pushed["pushed"] == 3 && fmt.Sprint(got) == "[0 1 2]", "stat=%v reply=%v news=%v", stat, pushed, got)

	var ans string
	cmd = sess.Call("/callback/ask", map[string]string{"q": "life"}, &ans)
	check(p("/callback/ask"), cmd.Status().OK() && ans == "answer to life", "stat=%v answer=%q", cmd.Status(), ans)

	// out-of-order replies
	ch := make(chan drpc.CallCmd, 2)
	var r1, r2 int
	c1 := sess.AsyncCall("/sleep", map[string]int{"ms": 300}, &r1, ch)
	c2 := sess.AsyncCall("/sleep", map[string]int{"ms": 10}, &r2, ch)
	first := <-ch
	<-ch
	check(p("/sleep out of order"), first == c2 && c1.Status().OK() && r1 == 300 && r2 == 10, "first=%v r1=%d r2=%d", first == c2, r1, r2)

	for i := 0; i < 4; i++ {
		sess.Push("/client/hello", map[string]int{"i": i})
	}
	time.Sleep(100 * time.Millisecond)
	var n int
	stat = sess.Call("/stats/pushes", nil, &n).Status()
	check(p("/stats/pushes"), stat.OK() && n == 4, "stat=%v n=%d", stat, n)
}

// ---- raw bytes over TCP (independent of dmicro's client code)

func rawFrame(seq int32, mtype byte, sm string, meta string, codecID byte, body []byte) []byte {
	var p bytes.Buffer
	s := strconv.FormatInt(int64(seq), 36)
	p.WriteByte(byte(len(s)))
	p.WriteString(s)
	p.WriteByte(mtype)
	p.WriteByte(byte(len(sm)))
	p.WriteString(sm)
	st := `{"code":0,"msg":"","cause":""}`
	binary.Write(&p, binary.BigEndian, uint16(len(st)))
	p.WriteString(st)
	binary.Write(&p, binary.BigEndian, uint16(len(meta)))
	p.WriteString(meta)
	p.WriteByte(codecID)
	p.Write(body)
	out := make([]byte, 4, 6+p.Len())
	out = append(out, 1, 0)
	out = append(out, p.Bytes()...)
	binary.BigEndian.PutUint32(out, uint32(len(out)))
	return out
}

func readRawFrame(c net.Conn) ([]byte, error) {
	var l [4]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(l[:])
	b := make([]byte, n)
	copy(b, l[:])
	_, err := io.ReadFull(c, b[4:])
	return b, err
}

func rawSuite(port int) {
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		check("raw dial", false, "%v", err)
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	f := rawFrame(1, 1, "/math/add", "{}", 'j', []byte(`{"a":1,"b":2}`))
	c.Write(f)
	r, err := readRawFrame(c)
	want := "00000030010001310200001e7b22636f6465223a302c226d7367223a22222c226361757365223a22227d00027b7d6a33"
	check("raw /math/add", err == nil && fmt.Sprintf("%x", r) == want, "err=%v reply=%x %q", err, r, r)

	c.Write(rawFrame(2, 1, "/nope", "{}", 'j', nil))
	r, err = readRawFrame(c)
	check("raw 404", err == nil && bytes.Contains(r, []byte(`{"code":404,"msg":"Not Found","cause":""}`)), "err=%v reply=%q", err, r)

	c.Write(rawFrame(3, 1, "/status/internal", `{"a":"b"}`, 'j', nil))
	r, err = readRawFrame(c)
	check("raw 500", err == nil, "err=%v reply=%q", err, r)

	// a 0-byte meta: DMicro fails the header and ends the session
	c.Write(rawFrame(4, 1, "/math/add", "", 'j', []byte(`{"a":1,"b":2}`)))
	_, err = readRawFrame(c)
	check("raw empty meta closes session", err != nil, "err=%v", err)
}

func heartbeatSuite(port int) {
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		check("heartbeat dial", false, "%v", err)
		return
	}
	defer c.Close()
	start := time.Now()
	c.Write(rawFrame(1, 3, "/heartbeat", `{"hb_":"3"}`, 'j', nil))
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err = c.Read(make([]byte, 1))
	el := time.Since(start)
	check("heartbeat silent session closed after ~2x3s", err != nil && el > 5*time.Second && el < 15*time.Second, "err=%v after %v", err, el)
}

func authSuite(kind string, port int) {
	bearer := func(token string) drpc.Plugin {
		return auth.NewBearerPlugin(func(sess auth.Session, fn auth.SendOnce) *drpc.Status {
			var ret string
			return fn(token, &ret)
		}, drpc.WithBodyCodec(codec.PlainName))
	}
	sess, stat := dial(kind, port, bearer("good-token"))
	if stat.OK() {
		var sum float64
		stat = sess.Call("/math/add", map[string]float64{"a": 1, "b": 1}, &sum).Status()
		check(kind+" auth good-token", stat.OK() && sum == 2, "stat=%v sum=%v", stat, sum)
		sess.Close()
	} else {
		check(kind+" auth good-token", false, "dial: %v", stat)
	}
	sess, stat = dial(kind, port, bearer("bad-token"))
	if kind == "ws-json" {
		// no status in the WS JSON sub-proto: the 401 AUTH_REPLY looks OK to
		// the client, the server then closes the session.
		ok := stat.OK()
		if ok {
			var sum float64
			stat = sess.Call("/math/add", map[string]float64{"a": 1, "b": 1}, &sum).Status()
			ok = stat.Code() == 102
		}
		check(kind+" auth bad-token: dial OK, then session closed (status lost)", ok, "stat=%v", stat)
		return
	}
	// DMicro's dialer reports a failed AfterDial as 105 Dial Failed (cause = the
	// AUTH_REPLY status cause); the wire status is 401, checked below.
	check(kind+" auth bad-token rejected (Go dialer)", stat.Code() == 105 && stat.Cause().Error() == "invalid token", "stat=%v", stat)

	if kind != "tcp" {
		return
	}
	// and as raw bytes: AUTH_CALL with a JSON string body
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err == nil {
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(rawFrame(1, 4, "", "{}", 'j', []byte(`"good-token"`)))
		r, err := readRawFrame(c)
		check("raw AUTH_CALL json good-token", err == nil && r[8] == 5 && bytes.HasSuffix(r, []byte(`j"ok"`)), "err=%v reply=%q", err, r)
	}
	c2, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err == nil {
		defer c2.Close()
		c2.SetDeadline(time.Now().Add(5 * time.Second))
		c2.Write(rawFrame(1, 4, "", "{}", 's', []byte(`bad-token`)))
		r, err := readRawFrame(c2)
		check("raw AUTH_CALL plain bad-token -> AUTH_REPLY 401", err == nil && r[8] == 5 &&
			bytes.Contains(r, []byte(`{"code":401,"msg":"Unauthorized","cause":"invalid token"}`)), "err=%v reply=%q", err, r)
		_, err = readRawFrame(c2)
		check("raw bad-token then session closed", err != nil, "err=%v", err)
	}
}

func main() {
	wsRaw := flag.Int("ws-raw", 0, "")
	wsJSON := flag.Int("ws-json", 0, "")
	tcp := flag.Int("tcp", 0, "")
	authTCP := flag.Int("auth-tcp", 0, "")
	authWSRaw := flag.Int("auth-ws-raw", 0, "")
	authWSJSON := flag.Int("auth-ws-json", 0, "")
	hb := flag.Bool("heartbeat", false, "also run the (slow) heartbeat check on -tcp")
	flag.Parse()
	lg := glog.DefaultLogger()
	lg.SetStdoutPrint(false)
	lg.SetWriter(os.Stderr)
	tfilter.RegGzip(5)
	tfilter.RegMD5()

	if *tcp != 0 {
		suite("tcp", *tcp)
		rawSuite(*tcp)
	}
	if *wsRaw != 0 {
		suite("ws-raw", *wsRaw)
	}
	if *wsJSON != 0 {
		suite("ws-json", *wsJSON)
	}
	if *authTCP != 0 {
		authSuite("tcp", *authTCP)
	}
	if *authWSRaw != 0 {
		authSuite("ws-raw", *authWSRaw)
	}
	if *authWSJSON != 0 {
		authSuite("ws-json", *authWSJSON)
	}
	if *hb && *tcp != 0 {
		heartbeatSuite(*tcp)
	}
	fmt.Printf("%d failure(s)\n", failures)
	if failures > 0 {
		os.Exit(1)
	}
}
