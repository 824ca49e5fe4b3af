package gopherlua_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
	"github.com/lasgi/lasgi/spec/event"
)

// callerApp answers with what each way of calling receive and send gave:
// "ok" or the error value, one line per attempt.
const callerApp = `
local kept_send
local function try(f, ...)
  local ok, err = pcall(f, ...)
  return ok and "ok" or tostring(err)
end
return function(scope, receive, send)
  local out = {}
  -- from a coroutine of the app's own, directly and inside its pcall
  local co = coroutine.create(function() return try(receive) end)
  local _, r = coroutine.resume(co)
  out[#out + 1] = "own-receive " .. tostring(r)
  co = coroutine.create(function() return try(send, {type = "http.response.body", body = "x"}) end)
  _, r = coroutine.resume(co)
  out[#out + 1] = "own-send " .. tostring(r)
  -- a pcall coroutine inside the app's coroutine is not the call's either
  local w = coroutine.wrap(function() return select(2, pcall(try, receive)) end)
  out[#out + 1] = "own-pcall " .. tostring(w())
  -- the send of the previous call
  if kept_send then
    out[#out + 1] = "stale-send " .. try(kept_send, {type = "http.response.start", status = 200})
  end
  kept_send = send
  -- the call's own coroutine, and pcall inside it, nested
  out[#out + 1] = "pcall-receive " .. select(2, pcall(try, receive))
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = table.concat(out, "\n")})
end`

func callBody(eng *gopherlua.Engine) string {
	call := bridge.NewCall(&event.Scope{Type: "http", HTTPVersion: "1.1", Method: "GET", Path: "/", RawPath: "/"}, time.Now().Add(5*time.Second))
	call.Push(event.Event{Type: event.HTTPRequest})
	eng.Start(call)
	body := ""
	for {
		select {
		case <-call.Notify():
		case <-time.After(5 * time.Second):
			Fail("the call did not finish")
		}
		for _, ev := range call.Take() {
			body += ev.Body
		}
		if st := call.State(); st.Finished {
			Expect(st.Err).NotTo(HaveOccurred())
			for _, ev := range call.Take() {
				body += ev.Body
			}
			return body
		}
	}
}

var _ = Describe("receive and send called from another coroutine", func() {
	var eng *gopherlua.Engine
	BeforeEach(func() {
		var err error
		eng, err = gopherlua.Load("caller.lua", []byte(callerApp), gopherlua.Options{Workers: 1})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(eng.Close)
	})

	const wrong = "lasgi: core.call.same-coroutine: %s called from a coroutine the server did not create for this call (coroutines the app creates must not call receive or send)"

	It("raise core.call.same-coroutine in a coroutine the app created, even inside pcall there", func() {
		lines := callBody(eng)
		Expect(lines).To(ContainSubstring("own-receive " + format(wrong, "receive") + "\n"))
		Expect(lines).To(ContainSubstring("own-send " + format(wrong, "send") + "\n"))
		Expect(lines).To(ContainSubstring("own-pcall " + format(wrong, "receive") + "\n"))
	})

	It("work inside the yield-safe pcall of the call's coroutine, nested", func() {
		Expect(callBody(eng)).To(HaveSuffix("\npcall-receive ok"))
	})

	It("raise core.call.same-coroutine after the call returned", func() {
		Expect(callBody(eng)).NotTo(ContainSubstring("stale-send"))
		Expect(callBody(eng)).To(ContainSubstring("\nstale-send lasgi: core.call.same-coroutine: send called after the application call returned\n"))
	})
})

func format(f, fn string) string { return fmt.Sprintf(f, fn) }
