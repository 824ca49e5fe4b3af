package main

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

var _ = Describe("lasgi-serve and WebSocket", func() {
	It("serves ws_echo.lua's WebSocket, closes 1009 past --ws-max-message, and says 1001 on SIGTERM", func() {
		session, url := start("--ws-max-message", "10", "../../reference/app/ws_echo.lua")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		wsURL := "ws" + strings.TrimPrefix(url, "http") + "/"

		c, _, err := websocket.Dial(ctx, wsURL, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Write(ctx, websocket.MessageText, []byte("ten bytes!"))).To(Succeed())
		_, data, err := c.Read(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(data)).To(Equal("ten bytes!"))
		Expect(c.Write(ctx, websocket.MessageText, []byte("eleven byte"))).To(Succeed())
		_, _, err = c.Read(ctx)
		Expect(websocket.CloseStatus(err)).To(Equal(websocket.StatusMessageTooBig))

		open, _, err := websocket.Dial(ctx, wsURL, nil)
		Expect(err).NotTo(HaveOccurred())
		session.Signal(syscall.SIGTERM)
		_, _, err = open.Read(ctx)
		Expect(websocket.CloseStatus(err)).To(Equal(websocket.StatusGoingAway))
		Eventually(session, 10*time.Second).Should(gexec.Exit())
	})

	It("refuses a --ws-max-message or --ws-ping-interval that cannot be", func() {
		for _, args := range [][]string{{"--ws-max-message", "0"}, {"--ws-ping-interval", "0s"}} {
			out, err := exec.Command(binary, args...).CombinedOutput()
			Expect(err).To(HaveOccurred())
			Expect(err.(*exec.ExitError).ExitCode()).To(Equal(2))
			Expect(string(out)).To(ContainSubstring(args[0] + " must be"))
		}
	})
})
