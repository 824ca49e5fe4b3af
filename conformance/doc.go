// Package conformance checks LASGI servers and apps against the spec: it is
// the engine of lasgi-check, usable from any Go program. It imports no test
// framework; package [github.com/lasgi/lasgi/conformance/ginkgosuite] runs
// the same checks as Ginkgo specs, with Gomega matchers.
//
// # Checking a server
//
// The corpus is a set of recorded exchanges, the fixtures (package
// [github.com/lasgi/lasgi/fixtures], one JSON file per spec section,
// documented in fixtures/README.md). Each [Case] holds the raw request as
// sent on the wire, a script for the probe app, and what must be observed:
// responses, the scope and receive() events the app was handed, the
// outcome of its sends. [LoadFS] loads and validates a corpus and [Select]
// picks cases by ID or rule ID. A [Checker] replays cases over TCP against
// any server that hosts the probe app (reference/app/probe.lua, printed by
// `lasgi-check probe`): [Checker.Run] runs one, [Checker.RunAll] a corpus.
// The checker knows nothing of the server but its address; what happened
// inside it comes back from the probe, in a response header or in a report
// the probe keeps for the checker to fetch, so a case passes only on the
// probe's evidence, and a plain HTTP server passes none.
//
// The lifespan cases ([Case.Launch]) must see a server start and stop, so
// they start one of their own through the Checker's [Launcher]: a
// [CommandLauncher] runs a shell command with a free port and the path of
// the probe file the checker wrote ({port}, {app}), and any Go program can
// give its own. The probe, told on its file's first line what to do in its
// lifespan call ([WriteProbe]), records each Lua state's lifespan and
// connection calls in a file the checker then reads. Without a Launcher
// those cases are skipped.
//
// # Checking an app
//
// The other way round, the kit plays the server. An [AppChecker] hands an
// app, running in an engine its Load function starts (the reference
// server's gopher-lua engine, with engine.Options.Async), the exchanges
// of [AppCases] (scopes, request bodies in one piece or many, the client
// going away at each point; WebSocket messages and the client's close or
// the transport ending, a [WSScript]) and of [ReplayCases] (the corpus's requests as a
// server would hand them over), and holds everything the app sends against
// the app-side rules. An [InterpreterChecker] does the same under a real
// Lua interpreter (lua5.1, lua5.4, luajit), with the lint naming the rules.
//
// # Verdicts
//
// Every case names the spec rules it checks by ID ([Case.Rules], the IDs
// of the catalog in package [github.com/lasgi/lasgi/spec]). A check that
// fails breaks the rules of what it checked ([Case.RulesOf]), and a
// [Result] lists them in Broken. Their levels decide the [Status]: a case
// that broke a MUST or MUST NOT rule has Failed; one that broke only
// SHOULD, SHOULD NOT or MAY rules is a Warning (see [Binding]), unless the
// checker is Strict, which makes it Failed too. A case is Skipped when it
// cannot be judged on this server, such as one that requires an extension
// the server does not offer. [Summarize], [WriteText], [WriteJSON] and
// [WriteJUnit] count and report results.
//
// # Deadlines
//
// A server or app under test may hang, trickle or flood; no case can hold
// the checker. [Checker.Timeout] bounds each network step of a case
// (connect, write, read; 5 seconds by default), and [Checker.CaseTimeout] the
// whole case, its steps and report fetches together (6 step timeouts by
// default), so a server that answers each step just in time still ends the
// case. A deadline or cancellation on the context given to RunAll bounds
// the whole run: the cases left fail quickly. [Checker.GiveUpAfter] stops a
// run against a server that answers nothing. [AppChecker.Timeout] bounds
// each step of an app case, [InterpreterChecker.Timeout] each case.
//
// # Example
//
// Running the built-in corpus against a server on port 9000 that hosts the
// probe app:
//
//	cases, err := conformance.LoadFS(fixtures.FS, ".")
//	if err != nil {
//		log.Fatal(err)
//	}
//	k := &conformance.Checker{Addr: "127.0.0.1:9000", Timeout: 2 * time.Second,
//		Launcher: conformance.CommandLauncher{Command: "my-server --port {port} {app}"}}
//	results := k.RunAll(context.Background(), cases, nil)
//	conformance.WriteText(os.Stdout, results)
//	if conformance.Summarize(results).Failed > 0 {
//		os.Exit(1)
//	}
//
// Ginkgo users write one call instead, ginkgosuite.DescribeServer, which
// makes every case a spec labelled with its rule IDs.
package conformance
