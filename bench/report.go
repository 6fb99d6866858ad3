package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
	"time"
)

// Figure is one row of the table.
type Figure struct{ Key, Label, Unit string }

// Entry is one line of results.json.
type Entry struct {
	Name   string  `json:"name"`
	System string  `json:"system"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
}

// Ratios are the compared pairs, numerator first.
var Ratios = [][2]string{{BerthS3, RefS3}, {BerthDisk, RefDisk}, {BerthS3, MinIORaw}}

// Results holds every run's value of every figure and system; reports use
// the median.
type Results struct {
	Figures []Figure
	Params  []Entry // bench parameters, written to results.json as system "bench"
	vals    map[[2]string][]float64
}

// Add records one run's value.
func (r *Results) Add(key, system string, v float64) {
	if r.vals == nil {
		r.vals = map[[2]string][]float64{}
	}
	r.vals[[2]string{key, system}] = append(r.vals[[2]string{key, system}], v)
}

// Median is the median of the recorded values.
func (r *Results) Median(key, system string) (float64, bool) {
	v := slices.Clone(r.vals[[2]string{key, system}])
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

func (r *Results) ratio(key, num, den string) (float64, bool) {
	n, ok1 := r.Median(key, num)
	d, ok2 := r.Median(key, den)
	return n / d, ok1 && ok2 && d != 0
}

// Entries are the medians and the ratios, flat, for results.json.
func (r *Results) Entries() []Entry {
	es := slices.Clone(r.Params)
	for _, f := range r.Figures {
		for _, s := range Systems {
			if v, ok := r.Median(f.Key, s); ok {
				es = append(es, Entry{f.Key, s, v, f.Unit})
			}
		}
		for _, p := range Ratios {
			if v, ok := r.ratio(f.Key, p[0], p[1]); ok {
				es = append(es, Entry{f.Key, "ratio:" + p[0] + "/" + p[1], v, "x"})
			}
		}
	}
	return es
}

// WriteJSON writes Entries to path.
func (r *Results) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r.Entries(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Table prints one row per figure: the systems' medians, then the ratios.
func (r *Results) Table(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "figure\tunit\t")
	for _, s := range Systems {
		fmt.Fprintf(tw, "%s\t", s)
	}
	for _, p := range Ratios {
		fmt.Fprintf(tw, "%s/%s\t", p[0], p[1])
	}
	fmt.Fprintln(tw)
	for _, f := range r.Figures {
		fmt.Fprintf(tw, "%s\t%s\t", f.Label, f.Unit)
		format := "%.1f"
		if f.Unit == "CPU s/GB" {
			format = "%.2f" // around 1: one decimal hides a tenth of the cost
		}
		for _, s := range Systems {
			v, ok := r.Median(f.Key, s)
			fmt.Fprintf(tw, "%s\t", num(v, ok, format))
		}
		for _, p := range Ratios {
			v, ok := r.ratio(f.Key, p[0], p[1])
			fmt.Fprintf(tw, "%s\t", num(v, ok, "%.2fx"))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

func num(v float64, ok bool, format string) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

// Goal is a target on the median of Key for System. With VsKey set, the
// ratio to the median of VsKey for VsSystem must be at least Want (Cmp
// ">=", the default for ratios) or at most Want (Cmp "<="); without, the
// value must be below Want (Cmp "<", the default) or at least Want (Cmp
// ">=").
type Goal struct {
	Label, Key, System, VsKey, VsSystem string
	Want                                float64
	Cmp                                 string
}

// met applies g's comparison to v.
func (g Goal) met(v float64) bool {
	cmp := g.Cmp
	if cmp == "" {
		cmp = "<"
		if g.VsKey != "" {
			cmp = ">="
		}
	}
	switch cmp {
	case "<":
		return v < g.Want
	case "<=":
		return v <= g.Want
	case ">=":
		return v >= g.Want
	}
	return false
}

// Goals prints PASS or SHORT (or n/a when not measured) per goal and
// returns how many fell short.
func (r *Results) Goals(w io.Writer, goals []Goal) (short int) {
	for _, g := range goals {
		v, ok := r.Median(g.Key, g.System)
		got := fmt.Sprintf("%.1f", v)
		if g.VsKey != "" {
			d, okd := r.Median(g.VsKey, g.VsSystem)
			ok = ok && okd && d != 0
			v /= d
			got = fmt.Sprintf("%.2fx", v)
		}
		verdict := "PASS "
		switch {
		case !ok:
			verdict, got = "n/a  ", "not measured"
		case !g.met(v):
			verdict = "SHORT"
			short++
		}
		fmt.Fprintf(w, "%s  %-60s %s\n", verdict, g.Label, got)
	}
	return short
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100), in ms.
func Percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := max(int(float64(len(s))*p/100+0.999999)-1, 0)
	return float64(s[min(i, len(s)-1)]) / float64(time.Millisecond)
}
