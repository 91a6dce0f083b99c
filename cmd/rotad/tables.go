package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// localTime renders t in loc as "Tue 10 Mar 10:00 CET".
func localTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("Mon 02 Jan 15:04 MST")
}

// printOnCall writes who is on call at at for each rotation in rots.
func printOnCall(w io.Writer, roster *scheduler.Roster, rots []*rota.Rotation, at time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROTATION\tTEAM\tON CALL\tSINCE\tUNTIL\tNOTE")
	for _, rot := range rots {
		sh, ok := roster.OnCall(rot.Name, at)
		if !ok {
			note := "nobody on call"
			if next := roster.Shifts(rot.Name, at, at.Add(400*rota.Day)); len(next) > 0 {
				note = "starts " + localTime(next[0].Start, rot.Location)
			}
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t%s\n", rot.Name, rot.Team, note)
			continue
		}
		note := ""
		if sh.IsOverride() {
			note = fmt.Sprintf("override #%d", sh.OverrideID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", rot.Name, rot.Team, sh.Person,
			localTime(sh.Start, rot.Location), localTime(sh.End, rot.Location), note)
	}
	tw.Flush()
}

func printTeams(w io.Writer, org *rota.Org) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TEAM\tTIME ZONE\tMEMBERS\tMANAGERS\tHUMAN SLO")
	for _, t := range org.Teams {
		slo := fmt.Sprintf("%d pages/week, %d off-hours in %s", t.SLO.PagesPerWeek, t.SLO.OffhoursIncidents, rota.FormatDuration(t.SLO.OffhoursWindow))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Location, strings.Join(t.Members, ", "), strings.Join(t.Managers, ", "), slo)
	}
	tw.Flush()
}

func printRotations(w io.Writer, org *rota.Org) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROTATION\tTEAM\tSHIFT\tHANDOFF\tTIME ZONE\tMEMBERS")
	for _, r := range org.Rotations {
		if r.IsSchedule() {
			fmt.Fprintf(tw, "%s\t%s\tschedule\tlayers %s\t%s\t%s\n", r.Name, r.Team, strings.Join(r.Layers, " < "), r.Location, strings.Join(r.Members, ", "))
			continue
		}
		handoff := r.Handoff.String()
		for _, w := range r.Active {
			handoff += ", active " + w.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Team, rota.FormatDuration(time.Duration(r.ShiftDays)*rota.Day),
			handoff, r.Location, strings.Join(r.Members, ", "))
	}
	tw.Flush()
}
