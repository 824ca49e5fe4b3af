package server_test

import (
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/engine"
	_ "github.com/lasgi/lasgi/reference/server/engines" // every engine this binary has
	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/reference/server/servertest"
)

// recorder is a groups.Member that keeps what it is delivered, decoded.
type recorder struct {
	mu  sync.Mutex
	got []any
}

func (r *recorder) Deliver(group, data string) {
	v, err := groups.Decode(data)
	if err != nil {
		v = err
	}
	r.mu.Lock()
	r.got = append(r.got, v)
	r.mu.Unlock()
}

func (r *recorder) messages() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]any(nil), r.got...)
}

const lifespanGroupsApp = `
return function(scope, receive, send)
  if scope.type == "lifespan" then
    local ext = scope.extensions and scope.extensions["lasgi.groups"]
    local _, err = pcall(send, {type = "lasgi.group.join", group = "news"})
    scope.state.seen = tostring(ext and ext.queue) .. " " .. tostring(err)
    receive() -- lifespan.startup
    send({type = "lasgi.group.send", group = "news", data = {text = "started"}})
    send({type = "lifespan.startup.complete"})
    receive() -- lifespan.shutdown
    send({type = "lasgi.group.send", group = "news", data = {text = "stopping"}})
    send({type = "lifespan.shutdown.complete"})
    return
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = scope.state.seen})
end`

var _ = Describe("lifespan and groups (groups.lifespan)", func() {
	for _, engineName := range engine.Names() {
		It("offers lasgi.groups to send only, through the server's hub, on engine "+engineName, func() {
			hub := groups.NewLocal()
			news := &recorder{}
			Expect(hub.Join("news", news)).To(Succeed())
			opts := engine.Options{Workers: 2, Groups: hub, Lifespan: engine.LifespanOn, LifespanTimeout: 5 * time.Second}
			s, err := servertest.StartOn(engineName, "app.lua", []byte(lifespanGroupsApp), opts, server.Config{Groups: hub}, GinkgoWriter)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(s.Stop)
			ts := &testServer{addr: s.Addr, log: s.Log, srv: s.Server()}
			Expect(ts.get("/").Body).To(Equal("256 lasgi: groups.lifespan.send-only: lasgi.group.join in a lifespan scope: a lifespan call may send to groups, not join or leave them"))
			started := map[any]any{"text": "started"}
			Expect(news.messages()).To(Equal([]any{started, started}), "one from each worker's startup")
			Expect(s.Stop()).To(Succeed())
			stopping := map[any]any{"text": "stopping"}
			Expect(news.messages()).To(Equal([]any{started, started, stopping, stopping}))
		})
	}
})
