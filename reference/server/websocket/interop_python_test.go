package websocket_test

import (
	"errors"
	"os/exec"
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/websocket"
)

// python is Debian's interpreter, the one python3-websockets is installed
// for (the python3 on PATH may be another one without it).
const python = "/usr/bin/python3"

// Interop with a second implementation: the Python websockets library
// drives the test echo server from testdata/pyclient.py.
var _ = Describe("against Python's websockets library as the client", func() {
	It("echoes, answers the ping, takes its 4001 close and closes it with 1009 past the limit", func(ctx SpecContext) {
		if out, err := exec.CommandContext(ctx, python, "-c", "import websockets").CombinedOutput(); err != nil {
			Skip("needs Debian's python3-websockets for " + python + " (apt-get install python3-websockets): " + string(out))
		}
		const max = 256 << 10
		s := startEcho(websocket.Options{MaxMessageSize: max})
		out, err := exec.CommandContext(ctx, python, "testdata/pyclient.py", s.url(), strconv.Itoa(max)).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "pyclient.py said:\n%s", out)
		Expect(string(out)).To(Equal("echo str 11\necho bytes 4\necho str 0\necho bytes 102400\npong\nclosed 4001\n" +
			"closed 1009 message past the limit of 262144 bytes\nok\n"))
		expectEqual(s.nextEnd(), &websocket.CloseError{Code: 4001, Reason: "python done"})
		var pe *websocket.ProtocolError
		Expect(errors.As(s.nextEnd(), &pe)).To(BeTrue())
		Expect(pe.Code).To(Equal(websocket.CloseMessageTooBig))
	}, SpecTimeout(ioDeadline))
})
