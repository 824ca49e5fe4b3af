package engine_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/engine"
	_ "github.com/lasgi/lasgi/reference/server/engines"
)

func TestEngine(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "engine")
}

type nopEngine struct{}

func (nopEngine) Start(*bridge.Call)                 {}
func (nopEngine) Close() error                       { return nil }
func (nopEngine) Shutdown(ctx context.Context) error { return nil }

var _ = Describe("the engine registry", func() {
	It("has gopher first, then the others sorted, each with its summary", func() {
		engine.Register("zz-test", "a test engine", func(string, []byte, engine.Options) (engine.Engine, error) { return nopEngine{}, nil })
		engine.Register("aa-test", "another", func(string, []byte, engine.Options) (engine.Engine, error) { return nopEngine{}, nil })
		names := engine.Names()
		Expect(names[0]).To(Equal(engine.Default))
		Expect(engine.Default).To(Equal("gopher"))
		Expect(names).To(ContainElements("aa-test", "zz-test"))
		for i := 2; i < len(names); i++ {
			Expect(names[i-1] < names[i]).To(BeTrue(), "%v", names)
		}
		Expect(engine.Summary("gopher")).To(ContainSubstring("gopher-lua"))
		Expect(engine.Summary("aa-test")).To(Equal("another"))
		Expect(engine.Usage("  ")).To(HavePrefix("  gopher   gopher-lua"))
		e, err := engine.Load("zz-test", "app.lua", nil, engine.Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(e).To(Equal(nopEngine{}))
		Expect(func() { engine.Register("gopher", "again", nil) }).To(Panic())
		Expect(func() {
			engine.Register("zz-test", "again", func(string, []byte, engine.Options) (engine.Engine, error) { return nil, nil })
		}).To(Panic())
	})

	It("loads an app on gopher by name, and names an engine it lacks, the ones it has and the build tags", func() {
		e, err := engine.Load("gopher", "hello.lua", []byte(`return function(scope, receive, send) end`), engine.Options{Workers: 1})
		Expect(err).NotTo(HaveOccurred())
		Expect(e.Shutdown(context.Background())).To(Succeed())

		_, err = engine.Load("no-such-engine", "hello.lua", nil, engine.Options{})
		Expect(err).To(MatchError(And(ContainSubstring(`unknown engine "no-such-engine"`), ContainSubstring("this binary has gopher"),
			ContainSubstring("-tags lua54"), ContainSubstring("-tags luajit"))))
		Expect(engine.Known("gopher")).To(BeTrue())
		Expect(engine.Known("no-such-engine")).To(BeFalse())
	})

	It("reads the lifespan modes and says which worker's startup failed", func() {
		for s, m := range map[string]engine.LifespanMode{"off": engine.LifespanOff, "auto": engine.LifespanAuto, "on": engine.LifespanOn} {
			got, err := engine.ParseLifespanMode(s)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(m))
			Expect(got.String()).To(Equal(s))
		}
		_, err := engine.ParseLifespanMode("maybe")
		Expect(err).To(HaveOccurred())
		Expect((&engine.StartupError{Worker: 2, Reason: "no reply"}).Error()).To(Equal("worker 2: lifespan startup failed: no reply"))
	})
})
