package main

import (
	"fmt"
	"os"
	"time"

	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging/replay"
)

// year writes a generated year of alerts and deploys for a
// configuration's services (its teams' members deploy them) as the JSONL
// rotad replay reads.
func year(args []string) error {
	fs := newFlags("year")
	cfgPath := fs.String("config", "config.example.toml", "the configuration whose services and people the year is for")
	out := fs.String("out", "year.jsonl", "where to write the JSONL")
	seed := fs.Int64("seed", 1, "the same seed, the same year")
	scale := fs.Float64("scale", 1, "multiplies every rate")
	start := fs.String("start", "2026-01-05", "the year's first day")
	fs.Parse(args)
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	from, err := time.Parse("2006-01-02", *start)
	if err != nil {
		return fmt.Errorf("--start: %v", err)
	}
	var services []replay.YearService
	for _, svc := range cfg.Org.Services {
		ys := replay.YearService{Name: svc.Name, Zone: svc.Location}
		if t := cfg.Org.Team(svc.Team); t != nil {
			for _, m := range t.Members {
				if p := cfg.Org.Person(m); p != nil && len(p.GitHub) > 0 {
					ys.Developers = append(ys.Developers, p.GitHub[0])
				}
			}
		}
		services = append(services, ys)
	}
	in := replay.Year(replay.YearOptions{Seed: *seed, Start: from, Services: services, Scale: *scale})
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := replay.Write(f, in, nil); err != nil {
		return err
	}
	fmt.Printf("wrote %d alerts and %d deploys over a year from %s to %s\n", len(in.Alerts), len(in.Deploys), *start, *out)
	return f.Close()
}
