package conformance

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Where a case's probe report comes from: the head of a response, or kept
// by the probe under a token and fetched with a request of its own; and the
// evidence that the probe ran at all.

// probeEvidence makes sure the probe took part when the app was to be
// called and a success came: a response carries its report, or it kept one
// under the token. A plain HTTP server that is not running the probe passes
// no case.
func (k *Checker) probeEvidence(ctx context.Context, c *Case, addr, token string, obs *Observation) error {
	if c.wantsAppNotCalled() || obs.Report != nil {
		return nil
	}
	// Only a success is held against the setup: a server that refused the
	// request itself (a 501 for an unknown method), or sent nothing, is
	// judged by the case's findings.
	success := false
	for _, r := range obs.Responses {
		if _, ok := r.header(ReportHeader); ok {
			return nil
		}
		success = success || r.Status >= 200 && r.Status < 300
	}
	if !success {
		return nil
	}
	if token != "" {
		kept, err := k.fetchReport(ctx, addr, token, false)
		if err != nil {
			return fmt.Errorf("%w (%v)", errNoProbe, err)
		}
		if kept != nil {
			return nil
		}
	}
	return errNoProbe
}

// errNoProbe is a setup failure, whatever the levels of the case's rules.
var errNoProbe = errors.New("no evidence that the probe app ran (a success came, but no response carries its " + ReportHeader + " header and it kept no report): is the server running the probe app (lasgi-check probe)? does it pass the " + ProbeHeader + " header to it?")

// scriptFrom says where the probe's script came from ("header" or
// "default"): from the report the case is judged on, or, when a kept report
// could not be had, from the head of the first response (the one the
// scripted request gets in every case that checks a report).
func scriptFrom(obs *Observation) string {
	if obs.Report != nil {
		return obs.Report.ScriptFrom
	}
	if len(obs.Responses) == 0 {
		return ""
	}
	v, ok := obs.Responses[0].header(ReportHeader)
	if !ok {
		return ""
	}
	rep, err := parseReport([]byte(v))
	if err != nil || rep == nil {
		return ""
	}
	return rep.ScriptFrom
}

// collectReport finds the probe's report: kept under the token, or in the
// head of the first response that carries one.
func (k *Checker) collectReport(ctx context.Context, c *Case, addr, token string, obs *Observation) error {
	if c.wantsAppNotCalled() {
		kept, err := k.fetchReport(ctx, addr, token, false)
		if err != nil {
			return err
		}
		called := kept != nil
		obs.AppCalled = &called
		if !called || c.Report == "kept" {
			obs.Report = kept
			return nil
		}
	}
	if !c.needsReport() {
		return nil
	}
	if c.Report == "kept" {
		kept, err := k.fetchReport(ctx, addr, token, true)
		if err != nil {
			return err
		}
		if kept == nil {
			return &skipError{"the probe's kept report could not be fetched: the exchange may have run in another worker or process than every report request reached; run the server with one worker to check this case"}
		}
		if kept.Running {
			obs.notes = append(obs.notes, fmt.Sprintf("the app call had not returned %v after the exchange (a receive() or send() that never came back?): judged on what the probe saw until then", k.timeout()))
		}
		obs.Report = kept
		return nil
	}
	for _, r := range obs.Responses {
		if v, ok := r.header(ReportHeader); ok {
			rep, err := parseReport([]byte(v))
			if err != nil {
				return fmt.Errorf("the %s header is not valid report JSON: %v", ReportHeader, err)
			}
			obs.Report = rep
			return nil
		}
	}
	return fmt.Errorf("no response carried the probe's %s header: is the server running the probe app (lasgi-check probe)?", ReportHeader)
}

// fetchReport asks the server at addr for the report kept under token, on fresh connections,
// until one answers 200 (nil, nil: not found). A report that must exist is
// waited for until the step deadline: the app may still be finishing, or the
// requests may keep reaching other workers. One that should not exist is
// asked for a few times only.
func (k *Checker) fetchReport(ctx context.Context, addr, token string, patient bool) (*ProbeReport, error) {
	deadline := time.Now().Add(k.timeout())
	pause := 5 * time.Millisecond
	// partial is the last report of a call still running: what the case is
	// judged on when the deadline comes while it waits for a later one (on
	// a loaded machine the wait may end past the deadline; returning
	// nothing then made the case a skip instead of a verdict).
	var partial *ProbeReport
	for i := 0; ; i++ {
		if patient && time.Now().After(deadline) || !patient && i == 4 {
			return partial, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		w, err := dialWire(addr, k.timeout())
		if err != nil {
			return nil, fmt.Errorf("fetching the probe report: %w", err)
		}
		err = w.write([]byte("GET /.lasgi-probe/report HTTP/1.1\r\nhost: lasgi-check\r\n" + ProbeHeader + ": report:" + token + "\r\nconnection: close\r\n\r\n"))
		var r *wireResponse
		if err == nil {
			r, err = w.readResponse(false)
		}
		w.close()
		if err != nil {
			return nil, fmt.Errorf("fetching the probe report: %w", err)
		}
		switch r.Status {
		case 200:
			if r.Body == nil {
				return nil, errors.New("the probe report is larger than 1 MiB")
			}
			m, err := parseReport(r.Body)
			if err != nil || m == nil {
				return nil, fmt.Errorf("asking the probe for its report (%s: report:%s) got 200 with %q, which is not a report: the probe did not get its script (does the server pass the %s header to the app?)", ProbeHeader, token, clip(string(r.Body)), ProbeHeader)
			}
			// A report of a call still running is partial: wait for the
			// call to end, and judge the partial one only at the deadline.
			if m.Running && patient && time.Now().Add(pause).Before(deadline) {
				partial = m
				time.Sleep(pause)
				pause = min(2*pause, 100*time.Millisecond)
				continue
			}
			return m, nil
		case 404:
			time.Sleep(pause)
			if patient {
				pause = min(2*pause, 100*time.Millisecond)
			}
		default:
			return nil, fmt.Errorf("asking the probe for its report (%s: report:%s) got status %d with %q", ProbeHeader, token, r.Status, clip(string(r.Body)))
		}
	}
}
