// crondiff answers "when does the CronJob controller fire next?" for the differential test of
// our schedule math: it parses and steps exactly as kube-controller-manager does, with
// cron.ParseStandard("TZ=<zone> <pattern>") and Schedule.Next, reading zones the way the
// controller binary does (the system zoneinfo first).
//
// Input: JSON lines {"pattern": "...", "zone": "...", "from": <unix ms> | "<RFC 3339>"}.
// Output, one line per case in order: {"next": <unix ms>}, {"none": true} when Next gives the
// zero time (no tick within robfig's five years), or {"error": "..."} when parsing fails.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/robfig/cron/v3"
)

type request struct {
	Pattern string          `json:"pattern"`
	Zone    string          `json:"zone"`
	From    json.RawMessage `json:"from"`
}

type answer struct {
	Next  *int64 `json:"next,omitempty"`
	None  bool   `json:"none,omitempty"`
	Error string `json:"error,omitempty"`
}

// from reads a case's instant: unix milliseconds, or an RFC 3339 string.
func from(raw json.RawMessage) (time.Time, error) {
	var ms int64
	if err := json.Unmarshal(raw, &ms); err == nil {
		return time.UnixMilli(ms), nil
	}
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		return time.Time{}, fmt.Errorf("from: neither unix ms nor a string: %s", raw)
	}
	return time.Parse(time.RFC3339Nano, text)
}

// schedules caches parses: ParseStandard loads the zone file on every call.
var schedules = map[string]cron.Schedule{}
var parseErrors = map[string]error{}

func schedule(spec string) (cron.Schedule, error) {
	if s, ok := schedules[spec]; ok {
		return s, nil
	}
	if err, ok := parseErrors[spec]; ok {
		return nil, err
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		parseErrors[spec] = err
		return nil, err
	}
	schedules[spec] = s
	return s, nil
}

func solve(r request) answer {
	t, err := from(r.From)
	if err != nil {
		return answer{Error: err.Error()}
	}
	// The controller's own spelling of a schedule with spec.timeZone (cronjob_controllerv2.go).
	s, err := schedule(fmt.Sprintf("TZ=%s %s", r.Zone, r.Pattern))
	if err != nil {
		return answer{Error: err.Error()}
	}
	next := s.Next(t)
	if next.IsZero() {
		return answer{None: true}
	}
	ms := next.UnixMilli()
	return answer{Next: &ms}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		var r request
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			fmt.Fprintf(os.Stderr, "crondiff: bad case %q: %v\n", in.Text(), err)
			os.Exit(2)
		}
		if err := enc.Encode(solve(r)); err != nil {
			fmt.Fprintf(os.Stderr, "crondiff: %v\n", err)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "crondiff: reading cases: %v\n", err)
		os.Exit(2)
	}
}
