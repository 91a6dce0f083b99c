package rota

import "time"

// MaxOverrideLength bounds an override: covering someone for longer than
// this is a change to the rotation, which belongs in the configuration.
const MaxOverrideLength = 90 * Day

// MaxReasonLength bounds an override's free-text reason.
const MaxReasonLength = 500

// Override puts Person on call for Rotation during [Start, End), in place of
// whoever is scheduled. Overrides may overlap: where they do, the one created
// last wins, so a later, narrower override nests inside an earlier one.
type Override struct {
	ID        int64
	Rotation  string
	Person    string
	Start     time.Time
	End       time.Time
	Reason    string
	CreatedBy string
	CreatedAt time.Time
}

// Validate checks the override on its own; whether the rotation and person
// exist is for the caller, who knows the configuration.
func (o *Override) Validate() error {
	switch {
	case o.Rotation == "":
		return FieldError("rotation", "is required")
	case o.Person == "":
		return FieldError("person", "is required")
	case o.Start.IsZero():
		return FieldError("start", "is required")
	case o.End.IsZero():
		return FieldError("end", "is required")
	case !o.End.After(o.Start):
		return FieldError("end", "must be after start")
	case o.End.Sub(o.Start) > MaxOverrideLength:
		return FieldError("end", "an override may last at most %s; change the rotation instead", FormatDuration(MaxOverrideLength))
	case len(o.Reason) > MaxReasonLength:
		return FieldError("reason", "is longer than %d bytes", MaxReasonLength)
	}
	if err := CheckTime("start", o.Start); err != nil {
		return err
	}
	if err := CheckTime("end", o.End); err != nil {
		return err
	}
	return checkTexts("reason", o.Reason, "created_by", o.CreatedBy)
}
